"""The pure side of provisioning: which steps a booking needs, role bookkeeping, join links,
channel names, the session card's text and the fixes named for admins."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling import provisioning as p
from scheduling.provisioning import SessionLocation

START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
UNIX = int(START.timestamp())


@dataclass
class Step:
    step: str
    status: str = "pending"
    attempts: int = 0
    last_error: str | None = None
    external_id: int | None = None


@dataclass
class Grant:
    had_before: bool
    removed_at: datetime | None = None


@dataclass
class Booking:
    id: int = 12
    guild_id: int = 1
    offering_id: int = 3
    coach_id: int = 4
    student_id: int = 700
    status: str = "confirmed"
    start_at: datetime = START
    end_at: datetime = START
    slot_key: str = "b:x"
    answers: list[dict[str, Any]] = field(default_factory=list)
    reschedule_count: int = 0
    text_channel_id: int | None = None
    voice_channel_id: int | None = None
    join_url: str | None = None


@dataclass
class Offering:
    id: int = 3
    title: str = "Mock interview"
    duration_minutes: int = 90
    capacity: int = 1
    session_type: str = "video"
    location_kind: str = "discord"
    location_url: str | None = None
    role_id: int | None = None


@dataclass
class Coach:
    id: int = 4
    user_id: int = 800
    display_name: str = "Carla"


@dataclass
class Material:
    kind: str
    title: str
    url: str | None = None
    body: str | None = None
    message_id: int | None = None


# ---------------------------------------------------------------- the plan


@pytest.mark.parametrize(("session_type", "location", "middle"), [
    ("video", "discord", ("voice_channel",)),
    ("audio", "discord", ("voice_channel",)),
    ("phone", "discord", ()),
    ("video", "generated", ("join_link",)),
    ("audio", "generated", ("join_link",)),
    ("video", "fixed", ("join_link",)),
    ("phone", "fixed", ("join_link",)),
])
def test_plan_per_session_type_and_location(session_type, location, middle):
    assert p.plan_steps(session_type, location) == (
        "role", "text_channel", *middle, "card", "dm_student", "dm_coach")


def test_every_planned_step_is_known_and_ordered_like_all_steps():
    for session_type in ("video", "audio", "phone"):
        for location in ("discord", "generated", "fixed"):
            plan = p.plan_steps(session_type, location)
            assert list(plan) == [s for s in p.ALL_STEPS if s in plan]


def test_unfinished_are_the_planned_steps_not_done():
    plan = p.plan_steps("video", "generated")
    records = [Step("role", "done"), Step("text_channel", "pending", 2, "boom"),
               Step("card", "failed")]
    assert p.unfinished(plan, records) == [
        "text_channel", "join_link", "card", "dm_student", "dm_coach"]


def test_card_waits_for_the_channel_and_the_link_dms_only_for_the_link():
    plan = p.plan_steps("video", "discord")
    assert p.waiting_for("card", plan, {"role"}) == ("text_channel", "voice_channel")
    assert p.waiting_for("dm_student", plan, {"role"}) == ("voice_channel",)
    assert p.waiting_for("dm_coach", plan, {"voice_channel"}) == ()
    assert p.waiting_for("role", plan, set()) == ()
    phone = p.plan_steps("phone", "discord")
    assert p.waiting_for("dm_student", phone, set()) == ()  # nothing planned to wait for


def test_an_attempt_is_interrupted_only_while_its_in_flight_mark_is_there():
    assert p.was_interrupted(Step("card", "pending", 1, p.IN_FLIGHT))
    assert not p.was_interrupted(Step("card", "pending", 1, "Missing Permissions"))
    assert not p.was_interrupted(Step("card", "done", 1, None))
    assert not p.was_interrupted(None)


# ---------------------------------------------------------------- roles


def test_the_offering_role_wins_over_the_server_role():
    assert p.role_to_grant(5, 9) == (5, "offering")
    assert p.role_to_grant(None, 9) == (9, "server")
    assert p.role_to_grant(None, None) == (None, "server")


@pytest.mark.parametrize(("has_role", "grants", "expected"), [
    (False, [], False),
    (False, [Grant(False)], False),
    (True, [], True),  # an admin gave it: never take it away
    (True, [Grant(False)], False),  # the bot gave it for an earlier booking
    (True, [Grant(True)], True),  # the earlier booking found it there too
    (True, [Grant(False, removed_at=START)], True),  # the bot's grant was removed since
    (True, [Grant(True), Grant(False)], False),
])
def test_had_role_before(has_role, grants, expected):
    assert p.had_role_before(has_role, grants) is expected


# ---------------------------------------------------------------- join links


def test_join_links():
    assert p.join_url_for("fixed", fixed_url="https://zoom.us/j/1",
                          jitsi_base="https://meet.jit.si") == "https://zoom.us/j/1"
    assert p.join_url_for("fixed", fixed_url=None, jitsi_base="https://meet.jit.si") is None
    assert p.join_url_for("discord", fixed_url="https://x.org",
                          jitsi_base="https://meet.jit.si") is None
    assert p.join_url_for("generated", fixed_url=None, jitsi_base="https://jitsi.example/",
                          token="abc") == "https://jitsi.example/coachbot-abc"
    assert p.join_url_for("generated", fixed_url=None, jitsi_base="https://meet.jit.si",
                          shared_url="https://meet.jit.si/coachbot-group") == (
        "https://meet.jit.si/coachbot-group")


def test_generated_rooms_are_long_random_and_url_safe():
    tokens = {p.new_room_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(len(t) == 24 and re.fullmatch(r"[A-Za-z0-9_-]+", t) for t in tokens)
    url = p.join_url_for("generated", fixed_url=None, jitsi_base="https://meet.jit.si")
    assert re.fullmatch(r"https://meet\.jit\.si/coachbot-[A-Za-z0-9_-]{24}", url)


def test_channel_url():
    assert p.channel_url(1, 2) == "https://discord.com/channels/1/2"


# ---------------------------------------------------------------- channels


@pytest.mark.parametrize(("label", "name"), [
    ("Zoë O'Brien", "session-12-zoe-obrien"),
    ("  ALL CAPS  name ", "session-12-all-caps-name"),
    ("🎉🎉", "session-12-student"),
    ("a" * 300, "session-12-" + "a" * 40),
    ("Mock interview: part #2", "session-12-mock-interview-part-2"),
])
def test_channel_names(label, name):
    assert p.channel_name(12, label) == name


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=10**12), st.text())
def test_channel_names_are_always_valid_discord_names(booking_id, label):
    name = p.channel_name(booking_id, label)
    assert name.startswith(p.channel_prefix(booking_id))
    assert re.fullmatch(r"session-\d+-[a-z0-9]+(-[a-z0-9]+)*", name)
    assert len(name) <= 100


def test_channel_topic_has_the_offering_time_and_booking_and_fits():
    topic = p.channel_topic(12, "Mock interview", "Carla", START)
    assert topic == (f"Mock interview with Carla, <t:{UNIX}:F> (booking #12). "
                     "Private to the student, the coach and Coachbot.")
    assert len(p.channel_topic(12, "x" * 2000, "Carla", START)) == 1024


# ---------------------------------------------------------------- the session card


def card_fields(card) -> dict[str, str]:
    return {f.name: f.value for f in card.fields}


def test_session_card_for_a_discord_video_session():
    booking = Booking(answers=[{"label": "Goal", "answer": "Practise"},
                               {"label": "Level", "answer": "  "}])
    card = p.session_card(booking, Offering(), Coach(),
                          SessionLocation(text_channel_id=50, voice_channel_id=51))
    assert card.title == "Session: Mock interview"
    assert card.footer == "Booking #12" == p.card_marker(12)
    assert card.start == START and card.join_url is None
    assert card_fields(card) == {
        "Who": "<@700> with coach <@800>",
        "When": f"<t:{UNIX}:F> (<t:{UNIX}:R>)",
        "Length": "1 h 30 min",
        "Session": "Video call, 1-on-1",
        "Where": "Voice channel <#51>",
        "Goal": "Practise",
        "Level": "—",
    }


def test_session_card_for_an_online_group_session_links_the_room_and_the_channel():
    card = p.session_card(Booking(), Offering(capacity=4, location_kind="generated"), Coach(),
                          SessionLocation(text_channel_id=50,
                                          join_url="https://meet.jit.si/coachbot-x"))
    fields = card_fields(card)
    assert fields["Session"] == "Video call, group of up to 4"
    assert fields["Where"] == "Online: https://meet.jit.si/coachbot-x"
    assert fields["Session channel"] == "<#50>"
    assert card.join_url == "https://meet.jit.si/coachbot-x"


@pytest.mark.parametrize(("kind", "location", "where"), [
    ("discord", SessionLocation(text_channel_id=5), "Session channel <#5>"),
    ("discord", SessionLocation(), "On Discord"),
    ("fixed", SessionLocation(), "The coach will share the meeting link in the session channel."),
    ("generated", SessionLocation(join_url="https://x.org/r"), "Online: https://x.org/r"),
])
def test_where_text(kind, location, where):
    assert p.where_text(kind, location) == where


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=300), st.text(max_size=4000)), max_size=8),
       st.text(min_size=1, max_size=200))
def test_any_answers_fit_in_one_embed(answers, title):
    booking = Booking(answers=[{"label": label, "answer": answer} for label, answer in answers])
    card = p.session_card(booking, Offering(title=title), Coach(), SessionLocation())
    total = len(card.title) + len(card.footer) + sum(
        len(f.name) + len(f.value) for f in card.fields)
    assert total <= 6000
    assert len(card.fields) <= 25 and len(card.title) <= 256
    assert all(0 < len(f.name) <= 256 and 0 < len(f.value) <= 1024 for f in card.fields)


def test_user_text_is_shown_as_given():
    booking = Booking(answers=[{"label": "@everyone", "answer": "<@&1> hi"}])
    fields = card_fields(p.session_card(booking, Offering(title="<@&9>"), Coach(),
                                        SessionLocation()))
    assert fields["@everyone"] == "<@&1> hi"


# ---------------------------------------------------------------- materials


def test_materials_text():
    assert p.materials_text([], guild_id=1, text_channel_id=2) == (
        "No materials shared yet for this session.")
    text = p.materials_text([
        Material("outline", "Plan", url="https://x.org/plan.pdf"),
        Material("notes", "Recap", message_id=99),
        Material("homework", "Read", body="Chapter 3 and 4"),
    ], guild_id=1, text_channel_id=2)
    assert text.splitlines() == [
        "**Materials for this session** (3):",
        "- outline: Plan <https://x.org/plan.pdf>",
        "- notes: Recap <https://discord.com/channels/1/2/99>",
        "- homework: Read: Chapter 3 and 4",
    ]
    long = p.materials_text([Material("notes", "x" * 300)] * 20, guild_id=1, text_channel_id=None)
    assert len(long) <= 1900


# ---------------------------------------------------------------- fixes for admins


ALL_VALUES = {"member": "<@1>", "role": "<@&2>", "bot_role": "<@&3>", "bot_role_name": "Coachbot",
              "where": "`/coaching setup`", "what": "text", "place": "", "channel_id": 5,
              "error_id": "abc123"}


@pytest.mark.parametrize("kind", list(p.Problem))
def test_every_problem_names_a_fix_with_the_values_it_is_given(kind):
    failure = p.problem(kind, "Missing Permissions (403, code 50013)", **ALL_VALUES)
    assert "{" not in failure.message and failure.message.endswith(".")
    assert failure.error == "Missing Permissions (403, code 50013)"
    assert p.problem(kind, **ALL_VALUES).error == kind.name.lower()


def test_role_fixes_say_where_to_click():
    assert p.problem(p.Problem.ROLE_ABOVE_BOT, **ALL_VALUES).message == (
        "I could not give <@1> the role <@&2>: my role <@&3> must be above it. Drag Coachbot "
        "above it in Server Settings > Roles.")
    assert "**Manage Roles**" in p.problem(p.Problem.NO_MANAGE_ROLES, **ALL_VALUES).message


def test_log_lines():
    line = p.log_line(12, "Mock interview", START, "Fix it.")
    assert line == (f"⚠️ Booking #12 (Mock interview, <t:{UNIX}:F>): Fix it. The booking stays "
                    "confirmed; I retry every few minutes.")
    assert len(p.log_line(12, "x" * 3000, START, "Fix it.")) == 2000
    assert p.fixed_line(12, ["role", "card"]) == (
        "✅ Booking #12: done now after an earlier failure: role, session card.")


def test_outcome_flags():
    complete = p.ProvisioningOutcome(1, done=("dm_student",))
    assert complete.complete and complete.student_dm_delivered
    closed = p.ProvisioningOutcome(1, done=("dm_student",), notes={"dm_student": "DMs closed"})
    assert closed.complete and not closed.student_dm_delivered
    assert not p.ProvisioningOutcome(1, pending={"role": "x"}).complete
    assert not p.ProvisioningOutcome(1, skipped="cancelled").complete


def test_slugify_keeps_only_lowercase_ascii_words():
    assert p.slugify("Ünïcödé  Straße!") == "unicode-strae"
    assert set(p.slugify(string.printable)) <= set(string.ascii_lowercase + string.digits + "-")
