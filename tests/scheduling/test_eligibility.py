import pytest

from scheduling.eligibility import StudentFacts, check_can_book
from scheduling.errors import NotAllowed

COACH = 1
VERIFIED = 99


def facts(**overrides):
    base = {"user_id": 2, "is_member": True, "pending_screening": False, "role_ids": {VERIFIED}}
    return StudentFacts(**{**base, **overrides})


def test_a_verified_member_may_book():
    check_can_book(facts(), coach_user_id=COACH, required_role_id=VERIFIED)
    check_can_book(facts(role_ids=set()), coach_user_id=COACH, required_role_id=None)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"is_member": False}, "Only members of this server"),
    ({"pending_screening": True}, "membership screening"),
    ({"role_ids": set()}, "needs the <@&99> role"),
    ({"user_id": COACH}, "with yourself"),
])
def test_each_refusal_explains_the_way_forward(overrides, message):
    with pytest.raises(NotAllowed, match=message):
        check_can_book(facts(**overrides), coach_user_id=COACH, required_role_id=VERIFIED)
