"""The offering service: field parsing, the draft life cycle, publishing rules, and fuzzing of
every free-text field through the service on a real database."""

from __future__ import annotations

import contextlib
import string
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from scheduling import offerings as svc
from scheduling.coach_access import require_coach
from scheduling.errors import Conflict, InvalidInput, NotAllowed, NotConfigured, NotFound
from scheduling.offering_fields import (
    check_image_attachment,
    check_image_bytes,
    check_meeting_url,
    check_thumbnail_url,
    clean_description,
    clean_question,
    clean_title,
    format_duration,
    format_minutes_input,
    parse_colour,
    parse_int,
    parse_minutes,
    parse_optional_limit,
    parse_policy,
    parse_refund_tiers,
    parse_reminders,
)
from storage.models import Booking

GUILD = 700_000_000_000_000_001
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)
FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


# ---------------------------------------------------------------- fields


@pytest.mark.parametrize(("text", "minutes"), [
    ("60", 60), ("90m", 90), ("90 min", 90), ("1h", 60), ("1h30", 90), ("1h 30m", 90),
    ("1.5h", 90), ("2 hours", 120), ("1d", 1440), ("1 day 2h", 1560), (" 45 ", 45),
])
def test_parse_minutes(text, minutes):
    assert parse_minutes(text, what="duration", low=0, high=10_000) == minutes


@pytest.mark.parametrize("text", ["", "soon", "1x", "h", "1h30x", "--5", "½h", "1h!"])
def test_parse_minutes_refuses_nonsense(text):
    with pytest.raises(InvalidInput, match="is not a duration"):
        parse_minutes(text, what="duration", low=15, high=480)


@pytest.mark.parametrize("text", ["5", "14", "481", "9h", "-30"])
def test_duration_limits(text):
    with pytest.raises(InvalidInput, match=r"between 15 min and 8 h \(15 to 480 minutes\)"):
        parse_minutes(text, what="duration", low=15, high=480)


def test_fractional_minutes_are_refused():
    with pytest.raises(InvalidInput, match="whole number of minutes"):
        parse_minutes("0.5", what="duration", low=0, high=480)


@pytest.mark.parametrize("minutes", [0, 5, 45, 60, 90, 125, 1440, 2880, 1500])
def test_prefilled_minutes_read_back(minutes):
    assert parse_minutes(format_minutes_input(minutes), what="x", low=0, high=10_000) == minutes


def test_format_duration():
    assert [format_duration(m) for m in (0, 45, 60, 90, 1440, 1500, 2880)] == [
        "0 min", "45 min", "1 h", "1 h 30 min", "1 day", "1 day 1 h", "2 days"]


def test_parse_int_and_limits():
    assert parse_int(" 8 ", what="capacity", low=1, high=1000) == 8
    with pytest.raises(InvalidInput, match="between 1 and 1000"):
        parse_int("-3", what="capacity", low=1, high=1000)
    with pytest.raises(InvalidInput, match="is not a whole number"):
        parse_int("eight", what="capacity", low=1, high=1000)
    assert parse_optional_limit("", what="max") is None
    assert parse_optional_limit("none", what="max") is None
    with pytest.raises(InvalidInput, match="between 1 and 1000"):
        parse_optional_limit("99999999", what="max")


@pytest.mark.parametrize(("text", "value"), [
    ("#5865F2", 0x5865F2), ("5865f2", 0x5865F2), ("#abc", 0xAABBCC), ("0x00ff00", 0x00FF00),
    ("Blue", 0x3498DB), ("", None), ("default", None),
])
def test_parse_colour(text, value):
    assert parse_colour(text) == value


def test_titles_keep_mentions_and_collapse_whitespace():
    assert clean_title("  @everyone   <@&123>\tfree\n") == "@everyone <@&123> free"
    with pytest.raises(InvalidInput, match="keep it to 100"):
        clean_title("x" * 101)
    with pytest.raises(InvalidInput, match="Give the offering a title"):
        clean_title(" \x00 ")


def test_descriptions_keep_lines():
    assert clean_description(" line one\nline two \x07") == "line one\nline two"
    with pytest.raises(InvalidInput, match="keep it to 1000"):
        clean_description("x" * 1001)


def test_questions():
    assert clean_question(" What is your goal? ", "paragraph", False).label == "What is your goal?"
    with pytest.raises(InvalidInput, match="at most 45 characters"):
        clean_question("x" * 46, "short", True)
    with pytest.raises(InvalidInput, match="short"):
        clean_question("Why?", "essay", True)


@pytest.mark.parametrize(("url", "ok"), [
    ("https://example.com/a.png", True),
    ("https://images.example.com/photo-123?w=400", True),  # no extension: allowed
    ("http://example.com/A.JPEG", True),
    ("https://example.com/a.txt", False),
    ("https://example.com/archive.tar.gz", False),
    ("https://media.discordapp.net/attachments/1/2/a.png", False),
    ("javascript:alert(1)", False),
    ("https://exa mple.com/a.png", False),
    ("https://" + "a" * 1100 + ".com/x.png", False),
])
def test_thumbnail_links(url, ok):
    if ok:
        assert check_thumbnail_url(url) == url
    else:
        with pytest.raises(InvalidInput):
            check_thumbnail_url(url)
    assert check_thumbnail_url("  ") is None


def test_image_uploads():
    check_image_attachment("a.png", "image/png", 100)
    check_image_attachment("photo", "image/webp", 100)
    for name, kind in (("a.txt", "text/plain"), ("a.png", "text/plain"), ("a.txt", None),
                       ("noextension", None), ("a.svg", "image/svg+xml")):
        with pytest.raises(InvalidInput, match="is not an image"):
            check_image_attachment(name, kind, 100)
    with pytest.raises(InvalidInput, match="at most 1 MB"):
        check_image_attachment("a.png", "image/png", 1024 * 1024 + 1)
    assert check_image_bytes("a.png", "image/png", PNG).content_type == "image/png"
    assert check_image_bytes("a.gif", None, b"GIF89a" + bytes(8)).content_type == "image/gif"
    assert check_image_bytes("a.webp", None, b"RIFF\0\0\0\0WEBPVP8 ").content_type == "image/webp"
    with pytest.raises(InvalidInput, match="not a readable image"):
        check_image_bytes("a.png", "image/png", b"<html>")


def test_meeting_links():
    assert check_meeting_url(" https://zoom.us/j/1 ") == "https://zoom.us/j/1"
    for bad in ("", "zoom.us/j/1", "mailto:me@example.com"):
        with pytest.raises(InvalidInput):
            check_meeting_url(bad)


def test_reminders():
    assert parse_reminders("24h, 1h") == [1440, 60]
    assert parse_reminders("1h and 1 day; 60") == [1440, 60]
    assert parse_reminders("") == parse_reminders("none") == []
    with pytest.raises(InvalidInput, match="At most 5 reminders"):
        parse_reminders("1h,2h,3h,4h,5h,6h")
    with pytest.raises(InvalidInput, match="between 5 min and 30 days"):
        parse_reminders("31d")


def test_refund_tiers_and_policy():
    assert parse_refund_tiers("48h 100%, 24h=50%; 2 hours: 10") == [(48, 100), (24, 50), (2, 10)]
    assert parse_refund_tiers("") is None
    assert parse_refund_tiers("none") == []
    policy = parse_policy("48h 100%", "2", "12h")
    assert (policy.max_reschedules, policy.reschedule_min_notice_hours) == (2, 12)
    assert parse_policy("", "5", "5") is None
    with pytest.raises(InvalidInput, match="between 0 and 10"):
        parse_policy("48h 100%", "11", "")


# ---------------------------------------------------------------- the draft life cycle


async def _coach(uow, user_id: int = 501):
    await uow.coach_grants.add(GUILD, "member", user_id)
    return await require_coach(uow, guild_id=GUILD, user_id=user_id, role_ids=[],
                               display_name="Ada")


@pytest.fixture
async def draft(uow_factory):
    async with uow_factory() as uow:
        coach = await _coach(uow)
        offering = await svc.create_draft(uow, coach, svc.LookForm("Manuscript review"))
        await uow.commit()
    return coach, offering.id


async def test_create_draft_uses_the_server_currency(uow_factory):
    async with uow_factory() as uow:
        settings_row = await uow.guild_settings.get_or_create(GUILD)
        settings_row.currency = "JPY"
        coach = await _coach(uow)
        offering = await svc.create_draft(uow, coach, svc.LookForm("Tea", "", "green"))
        await svc.update_checkout(uow, offering, svc.CheckoutForm("Tea talk", "3000", "30", "1"),
                                  stripe_configured=False)
        await uow.commit()
    assert (offering.status, offering.draft_step, offering.currency) == ("draft", 1, "JPY")
    assert (offering.price_minor, offering.accent_colour) == (3000, 0x57F287)


async def test_steps_thumbnails_schedules_and_publishing(uow_factory, draft):
    coach, offering_id = draft
    async with uow_factory() as uow:
        offering = await svc.load_owned(uow, coach, offering_id)
        await svc.set_uploaded_thumbnail(uow, offering, check_image_bytes("a.png", None, PNG))
        card = await svc.card_for(uow, coach, offering)
        assert card.thumbnail.filename.startswith(f"offering-{offering_id}-")
        assert card.thumbnail.embed_url.startswith("attachment://")
        await svc.update_look(uow, offering, svc.LookForm("Manuscript review",
                                                          "https://e.com/x.png"))
        assert await uow.offerings.thumbnail_info(offering_id) is None
        assert (await svc.card_for(uow, coach, offering)).thumbnail.url == "https://e.com/x.png"

        assert await svc.go_to_step(uow, coach, offering, 9) == 4
        assert await svc.go_to_step(uow, coach, offering, 3) == 3
        default = await uow.schedules.get_by_name(coach.id, "default")
        assert offering.schedule_id == default.id

        with pytest.raises(InvalidInput, match="a description"):
            await svc.publish(uow, coach, offering, stripe_configured=True)
        await svc.update_checkout(uow, offering, svc.CheckoutForm("Chapter one", "25", "60", "1"),
                                  stripe_configured=False)
        with pytest.raises(NotConfigured, match="STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET"):
            await svc.publish(uow, coach, offering, stripe_configured=False)
        await svc.set_location(uow, offering, "fixed", "https://zoom.us/j/1")
        result = await svc.publish(uow, coach, offering, stripe_configured=True)
        assert offering.status == "published"
        assert "no hours yet" in result.warnings[0]
        with pytest.raises(Conflict, match="already published"):
            await svc.publish(uow, coach, offering, stripe_configured=True)
        with pytest.raises(Conflict, match="Only unpublished drafts"):
            await svc.discard_draft(uow, offering)
        await svc.unpublish(uow, offering)
        assert offering.status == "unpublished"
        await uow.commit()


async def test_fixed_location_needs_a_link_to_publish(uow_factory, draft):
    coach, offering_id = draft
    async with uow_factory() as uow:
        offering = await svc.load_owned(uow, coach, offering_id)
        await uow.offerings.update(offering, description="x", location_kind="fixed")
        assert svc.missing_for_publish(offering) == ["your meeting link (step 4 · Options)"]


async def test_ownership_and_lookup(uow_factory, draft):
    coach, offering_id = draft
    async with uow_factory() as uow:
        other = await _coach(uow, user_id=502)
        with pytest.raises(NotAllowed, match="another coach"):
            await svc.load_owned(uow, other, offering_id)
        with pytest.raises(NotFound):
            await svc.load_owned(uow, coach, offering_id + 100)
        assert (await svc.find_owned(uow, coach, str(offering_id))).id == offering_id
        assert (await svc.find_owned(uow, coach, "manuscript")).id == offering_id
        with pytest.raises(NotFound, match="no offering with that name"):
            await svc.find_owned(uow, coach, "tarot")
        assert await svc.owner_of(uow, offering_id) == 501
        assert await svc.autocomplete_choices(uow, coach, "MANU") == [
            ("Manuscript review (draft)", str(offering_id))]


async def test_questions_limit(uow_factory, draft):
    coach, offering_id = draft
    async with uow_factory() as uow:
        offering = await svc.load_owned(uow, coach, offering_id)
        for n in range(5):
            await svc.add_question(uow, offering, f"Q{n}", "short", True)
        with pytest.raises(InvalidInput, match="at most 5 questions"):
            await svc.add_question(uow, offering, "Q5", "short", True)
        with pytest.raises(InvalidInput, match="at most 5 questions"):
            await svc.ensure_room_for_question(uow, offering)
        await svc.remove_question(uow, offering, 0)
        with pytest.raises(NotFound):
            await svc.remove_question(uow, offering, 4)
        assert [q.label for q in await uow.offerings.questions(offering_id)] == [
            "Q1", "Q2", "Q3", "Q4"]


async def test_delete_rules(uow_factory, draft):
    coach, offering_id = draft
    async with uow_factory() as uow:
        offering = await svc.load_owned(uow, coach, offering_id)
        booking = await uow.bookings.add(Booking(
            guild_id=GUILD, offering_id=offering_id, coach_id=coach.id, student_id=9,
            status="confirmed", start_at=NOW + timedelta(hours=1),
            end_at=NOW + timedelta(hours=2)))
        with pytest.raises(Conflict, match="1 session is still booked"):
            await svc.delete_offering(uow, offering, NOW)
        # Once the session is over the offering may go; bookings keep pointing at it.
        await svc.delete_offering(uow, offering, NOW + timedelta(hours=2))
        assert offering.status == "deleted"
        await uow.commit()
    async with uow_factory() as uow:
        with pytest.raises(NotFound):
            await svc.load_owned(uow, coach, offering_id)
        assert (await uow.bookings.get(booking.id)).offering_id == offering_id


async def test_discard_draft_removes_it(uow_factory, draft):
    coach, offering_id = draft
    async with uow_factory() as uow:
        offering = await svc.load_owned(uow, coach, offering_id)
        await svc.add_question(uow, offering, "Why?", "short", True)
        await svc.set_uploaded_thumbnail(uow, offering, check_image_bytes("a.png", None, PNG))
        assert await svc.discard_draft(uow, offering) == "Manuscript review"
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.offerings.get(offering_id) is None
        assert await uow.offerings.questions(offering_id) == []
        assert await uow.offerings.thumbnail_info(offering_id) is None


async def test_role_rules(uow_factory, draft):
    coach, offering_id = draft
    async with uow_factory() as uow:
        offering = await svc.load_owned(uow, coach, offering_id)
        for facts, message in (
                (svc.RoleFacts(1, "everyone", True, False, True), "@everyone"),
                (svc.RoleFacts(2, "Bots", False, True, True), "managed by an integration"),
                (svc.RoleFacts(3, "Admins", False, False, False), "above my own highest role")):
            with pytest.raises(InvalidInput, match=message):
                await svc.set_role(uow, offering, facts)
        await svc.set_role(uow, offering, svc.RoleFacts(4, "Club", False, False, True))
        assert offering.role_id == 4
        await svc.set_role(uow, offering, None)
        assert offering.role_id is None


async def test_wizard_state_prefills_read_back(uow_factory, draft):
    coach, offering_id = draft
    async with uow_factory() as uow:
        offering = await svc.load_owned(uow, coach, offering_id)
        await svc.update_checkout(uow, offering, svc.CheckoutForm("d", "19.5", "1h30", "3"),
                                  stripe_configured=False)
        await svc.update_timing(uow, offering, svc.TimingForm("", "5", "10", "1d", "30"))
        await svc.update_policy(uow, offering, svc.PolicyForm("48h 100%, 6h 25%", "0", "48"))
        state = await svc.wizard_state(uow, coach, offering, 4)
        form = state.form
        assert (form["price"], form["duration"], form["notice"]) == ("19.50", "90", "1d")
        assert form["tiers"] == "48h 100%, 6h 25%"
        before = (offering.price_minor, offering.min_notice_minutes, offering.policy)
        await svc.update_checkout(uow, offering, svc.CheckoutForm(
            form["description"], form["price"], form["duration"], form["capacity"]),
            stripe_configured=False)
        await svc.update_timing(uow, offering, svc.TimingForm(
            form["interval"], form["buffer_before"], form["buffer_after"], form["notice"],
            form["window_days"]))
        await svc.update_policy(uow, offering, svc.PolicyForm(
            form["tiers"], form["max_reschedules"], form["reschedule_notice"]))
        assert (offering.price_minor, offering.min_notice_minutes, offering.policy) == before


# ---------------------------------------------------------------- fuzzing free text


TEXT = st.text(max_size=120) | st.text(alphabet=string.printable, max_size=40)
NUMBER = TEXT | st.integers(-10, 10**7).map(str) | st.decimals(-5, 10**6, places=2).map(str)
MINUTES = TEXT | st.integers(-5, 2000).map(str) | st.sampled_from(["1h30", "2h", "1d", "45m"])


async def _stored(uow_factory, offering_id: int):
    async with uow_factory() as uow:
        return await uow.offerings.get(offering_id)


async def _attempt(uow_factory, coach, offering_id, change) -> bool:
    """Run `change` in its own unit of work; True if it was written, False if refused."""
    async with uow_factory() as uow:
        offering = await svc.load_owned(uow, coach, offering_id)
        try:
            await change(uow, offering)
        except InvalidInput as error:
            assert error.user_message
            event("refused")
            return False
        await uow.commit()
        event("written")
        return True


def one_field_fuzzed(valid: dict[str, str], strategies: dict[str, st.SearchStrategy[str]]):
    """A form where one field (any of them) holds fuzzed text and the others are valid."""
    return st.sampled_from(sorted(valid)).flatmap(
        lambda name: strategies.get(name, TEXT).map(lambda text: {**valid, name: text}))


LOOK = {"title": "Manuscript review", "thumbnail_url": "", "colour": ""}
CHECKOUT = {"description": "Chapter one", "price": "25", "duration": "60", "capacity": "1"}
TIMING = {"interval": "", "buffer_before": "0", "buffer_after": "0", "notice": "2h",
          "window_days": "60", "max_per_day": "", "max_per_student": ""}
OPTIONS = {"tiers": "", "reminders": "24h, 1h", "link": "https://zoom.us/j/1"}
NUMBERS = {"price": NUMBER, "capacity": NUMBER, "window_days": NUMBER, "max_per_day": NUMBER,
           "max_per_student": NUMBER, "duration": MINUTES, "interval": MINUTES,
           "buffer_before": MINUTES, "buffer_after": MINUTES, "notice": MINUTES,
           "reminders": TEXT | st.lists(MINUTES, max_size=6).map(", ".join),
           "tiers": TEXT | st.lists(st.tuples(st.integers(-1, 2000), st.integers(-1, 120)),
                                    max_size=4).map(
               lambda pairs: ", ".join(f"{h}h {p}%" for h, p in pairs))}


@FUZZ
@given(form=one_field_fuzzed(LOOK, NUMBERS))
async def test_fuzz_look(uow_factory, draft, form):
    coach, offering_id = draft
    before = await _stored(uow_factory, offering_id)
    written = await _attempt(uow_factory, coach, offering_id, lambda uow, o: svc.update_look(
        uow, o, svc.LookForm(**form)))
    after = await _stored(uow_factory, offering_id)
    if not written:
        assert (after.title, after.thumbnail_url, after.accent_colour) == (
            before.title, before.thumbnail_url, before.accent_colour)
        return
    assert after.title == clean_title(form["title"]) and 1 <= len(after.title) <= 100
    assert after.title == " ".join(after.title.split())
    assert after.accent_colour is None or 0 <= after.accent_colour <= 0xFFFFFF
    if form["thumbnail_url"].strip():
        assert after.thumbnail_url == form["thumbnail_url"].strip()
        assert after.thumbnail_url.lower().startswith(("http://", "https://"))


@FUZZ
@given(form=one_field_fuzzed(CHECKOUT, NUMBERS))
async def test_fuzz_checkout(uow_factory, draft, form):
    coach, offering_id = draft
    before = await _stored(uow_factory, offering_id)
    written = await _attempt(uow_factory, coach, offering_id, lambda uow, o: svc.update_checkout(
        uow, o, svc.CheckoutForm(**form), stripe_configured=False))
    after = await _stored(uow_factory, offering_id)
    if not written:
        assert (after.description, after.price_minor, after.duration_minutes, after.capacity) == (
            before.description, before.price_minor, before.duration_minutes, before.capacity)
        return
    assert after.description == clean_description(form["description"])
    assert 1 <= len(after.description) <= 1000
    assert 0 <= after.price_minor <= 100_000 * 100
    assert 15 <= after.duration_minutes <= 480 and 1 <= after.capacity <= 1000


@FUZZ
@given(label=TEXT, style=st.sampled_from(["short", "paragraph", "essay"]))
async def test_fuzz_question_labels(uow_factory, draft, label, style):
    coach, offering_id = draft
    async with uow_factory() as uow:
        offering = await svc.load_owned(uow, coach, offering_id)
        await uow.offerings.replace_questions(offering_id, [])
        try:
            await svc.add_question(uow, offering, label, style, True)
        except InvalidInput:
            assert await uow.offerings.questions(offering_id) == []
            return
        (stored,) = await uow.offerings.questions(offering_id)
        assert stored.label == clean_question(label, style, True).label
        assert 1 <= len(stored.label) <= 45 and stored.style in ("short", "paragraph")


@FUZZ
@given(form=one_field_fuzzed(TIMING, NUMBERS))
async def test_fuzz_availability(uow_factory, draft, form):
    coach, offering_id = draft

    async def change(uow, offering):
        await svc.update_timing(uow, offering, svc.TimingForm(
            form["interval"], form["buffer_before"], form["buffer_after"], form["notice"],
            form["window_days"]))
        await svc.update_limits(uow, offering, svc.LimitsForm(form["max_per_day"],
                                                              form["max_per_student"]))

    before = await _stored(uow_factory, offering_id)
    written = await _attempt(uow_factory, coach, offering_id, change)
    stored = await _stored(uow_factory, offering_id)
    if not written:
        assert (stored.interval_minutes, stored.min_notice_minutes, stored.max_per_day) == (
            before.interval_minutes, before.min_notice_minutes, before.max_per_day)
        return
    assert stored.interval_minutes is None or 5 <= stored.interval_minutes <= 720
    assert 0 <= stored.buffer_before_minutes <= 120 and 0 <= stored.buffer_after_minutes <= 120
    assert 0 <= stored.min_notice_minutes < stored.booking_window_days * 1440
    assert 1 <= stored.booking_window_days <= 365
    for limit in (stored.max_per_day, stored.max_per_student):
        assert limit is None or 1 <= limit <= 1000


@FUZZ
@given(form=one_field_fuzzed(OPTIONS, NUMBERS))
async def test_fuzz_options(uow_factory, draft, form):
    coach, offering_id = draft

    async def change(uow, offering):
        await svc.update_policy(uow, offering, svc.PolicyForm(form["tiers"]))
        await svc.update_reminders(uow, offering, form["reminders"])
        await svc.set_location(uow, offering, "fixed", form["link"])

    before = await _stored(uow_factory, offering_id)
    written = await _attempt(uow_factory, coach, offering_id, change)
    stored = await _stored(uow_factory, offering_id)
    if not written:
        assert (stored.policy, stored.reminder_offsets_minutes, stored.location_url) == (
            before.policy, before.reminder_offsets_minutes, before.location_url)
        return
    assert len(stored.reminder_offsets_minutes) <= 5
    assert all(5 <= m <= 43200 for m in stored.reminder_offsets_minutes)
    assert stored.location_url.lower().startswith(("http://", "https://"))
    if stored.policy is not None:
        percents = [t["refund_percent"] for t in stored.policy["tiers"]]
        assert percents == sorted(percents, reverse=True)
        assert all(0 <= p <= 100 for p in percents)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_parsers_only_ever_raise_invalid_input(text):
    for parse in (lambda t: parse_minutes(t, what="x", low=0, high=10_000), parse_colour,
                  parse_reminders, parse_refund_tiers, check_thumbnail_url,
                  lambda t: parse_int(t, what="x", low=0, high=10)):
        with contextlib.suppress(InvalidInput):
            parse(text)
