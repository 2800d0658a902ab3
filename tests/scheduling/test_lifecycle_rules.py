"""The pure rules of a session's lifecycle: the reminder plan, late reminders, status changes,
no-shows, ratings, the role rule, cleanup timing, transcripts and `/reminders` input."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduling.errors import Conflict, InvalidInput, NotAllowed
from scheduling.lifecycle import (
    KEEP_HAD_BEFORE,
    KEEP_NEEDED,
    REMOVE,
    ReminderPreference,
    TranscriptLine,
    check_can_rate,
    check_no_show,
    check_stars,
    deletion_due,
    describe_preference,
    ended_status,
    latest_per_recipient,
    parse_student_offsets,
    plan_after_end,
    plan_reminders,
    plan_session_reminders,
    plan_session_tasks,
    reminder_dropped,
    reminder_text,
    role_decision,
    started_status,
    transcript_text,
)

START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
END = START + timedelta(hours=1)
STUDENT, COACH = 11, 22


def minutes_before(minutes: int) -> datetime:
    return START - timedelta(minutes=minutes)


# ---------------------------------------------------------------- plan


def test_one_reminder_per_offset_and_one_at_the_start():
    planned = plan_reminders(START, [60, 1440], recipient_id=STUDENT,
                             now=START - timedelta(days=3))
    assert [(p.kind, p.offset_minutes, p.due_at, p.status) for p in planned] == [
        ("reminder", 1440, minutes_before(1440), "pending"),
        ("reminder", 60, minutes_before(60), "pending"),
        ("start", 0, START, "pending")]


def test_offsets_already_past_are_planned_as_skipped_never_due_now():
    planned = plan_reminders(START, [1440, 60], recipient_id=STUDENT,
                             now=minutes_before(90))
    assert {p.offset_minutes: p.status for p in planned} == {
        1440: "skipped", 60: "pending", 0: "pending"}
    exactly_now = plan_reminders(START, [60], recipient_id=STUDENT, now=minutes_before(60))
    assert exactly_now[0].status == "skipped"


def test_bad_offsets_are_ignored_and_duplicates_dropped():
    planned = plan_reminders(START, [60, 60, 0, -5], recipient_id=STUDENT,
                             now=START - timedelta(days=1))
    assert [p.offset_minutes for p in planned] == [60, 0]


def test_students_own_offsets_or_none_at_all():
    now = START - timedelta(days=3)
    both = plan_session_reminders(START, [1440, 60], student_id=STUDENT, coach_user_id=COACH,
                                  now=now, student=ReminderPreference(offsets=(180,)))
    assert sorted((p.recipient_id, p.offset_minutes) for p in both) == [
        (STUDENT, 0), (STUDENT, 180), (COACH, 0), (COACH, 60), (COACH, 1440)]
    off = plan_session_reminders(START, [1440], student_id=STUDENT, coach_user_id=COACH,
                                 now=now, student=ReminderPreference(enabled=False))
    assert {p.recipient_id for p in off} == {COACH}


@given(offsets=st.lists(st.integers(min_value=-100, max_value=50_000), max_size=8),
       hours_ahead=st.integers(min_value=-5, max_value=2000))
def test_no_planned_reminder_is_pending_unless_it_is_in_the_future(offsets, hours_ahead):
    now = START - timedelta(hours=hours_ahead)
    for planned in plan_reminders(START, offsets, recipient_id=STUDENT, now=now):
        assert (planned.status == "pending") == (planned.due_at > now)
        assert planned.due_at <= START


def test_tasks_at_start_and_end_then_rating_transcripts_and_deletion():
    assert [(t.kind, t.due_at) for t in plan_session_tasks(START, END)] == [
        ("start", START), ("end", END), ("close", END)]
    after = plan_after_end(END, 3, completed=True, has_channel=True)
    assert [(t.kind, t.due_at) for t in after] == [
        ("rating", END), ("transcript_student", END + timedelta(days=3)),
        ("transcript_coach", END + timedelta(days=3)),
        ("delete_channel", END + timedelta(days=3))]
    assert plan_after_end(END, 3, completed=False, has_channel=False) == []
    assert deletion_due(END, None) == END + timedelta(days=7)
    assert deletion_due(END, 0) == END


# ---------------------------------------------------------------- late reminders


@pytest.mark.parametrize(("kind", "now", "dropped"), [
    ("reminder", minutes_before(1), None),
    ("reminder", START, "the session had already started"),
    ("start", START + timedelta(minutes=9), None),
    ("start", START + timedelta(minutes=10), "the session started too long ago"),
])
def test_late_reminders_are_sent_before_the_start_and_dropped_after(kind, now, dropped):
    assert reminder_dropped(kind, "confirmed", START, END, now) == dropped


def test_reminders_of_cancelled_bookings_are_dropped():
    assert reminder_dropped("reminder", "cancelled", START, END,
                            minutes_before(60)) == "the booking is cancelled"


@dataclass
class Row:
    id: int
    booking_id: int
    recipient_id: int
    due_at: datetime


def test_of_several_overdue_reminders_only_the_latest_per_person_is_sent():
    rows = [Row(1, 7, STUDENT, minutes_before(1440)), Row(2, 7, STUDENT, minutes_before(60)),
            Row(3, 7, COACH, minutes_before(1440)), Row(4, 8, STUDENT, minutes_before(1440))]
    send, superseded = latest_per_recipient(rows)
    assert [r.id for r in send] == [2, 3, 4] and [r.id for r in superseded] == [1]


# ---------------------------------------------------------------- status changes, no-shows


def test_transitions():
    assert started_status("confirmed") == "in_progress"
    assert started_status("cancelled") is None
    assert ended_status("in_progress") == ended_status("confirmed") == "completed"
    assert ended_status("no_show_student") is None


def test_no_show_only_during_or_in_the_week_after_the_session():
    check_no_show("in_progress", START, END, START)
    check_no_show("completed", START, END, END + timedelta(days=7))
    with pytest.raises(NotAllowed, match="has not started yet"):
        check_no_show("confirmed", START, END, minutes_before(1))
    with pytest.raises(NotAllowed, match="until 7 days"):
        check_no_show("completed", START, END, END + timedelta(days=7, seconds=1))
    with pytest.raises(Conflict, match="already marked"):
        check_no_show("no_show_coach", START, END, START)
    with pytest.raises(Conflict, match="cancelled"):
        check_no_show("cancelled", START, END, START)


# ---------------------------------------------------------------- ratings


@pytest.mark.parametrize("stars", [0, 6, -1, True])
def test_stars_are_one_to_five(stars):
    with pytest.raises(InvalidInput):
        check_stars(stars)


def test_rating_windows():
    check_can_rate("completed", END, END + timedelta(days=7), None)
    with pytest.raises(NotAllowed, match="until 7 days after they end"):
        check_can_rate("completed", END, END + timedelta(days=7, seconds=1), None)
    given_at = END + timedelta(days=6)
    check_can_rate("completed", END, given_at + timedelta(days=7), given_at)  # edit
    with pytest.raises(NotAllowed, match="can no longer be changed"):
        check_can_rate("completed", END, given_at + timedelta(days=7, seconds=1), given_at)
    with pytest.raises(NotAllowed, match="Only completed"):
        check_can_rate("no_show_student", END, END, None)
    with pytest.raises(NotAllowed, match="once it is over"):
        check_can_rate("completed", END, END - timedelta(seconds=1), None)


# ---------------------------------------------------------------- roles


def test_role_rule():
    assert role_decision(had_before=False, needed_elsewhere=False) == REMOVE
    assert role_decision(had_before=False, needed_elsewhere=True) == KEEP_NEEDED
    assert role_decision(had_before=True, needed_elsewhere=False) == KEEP_HAD_BEFORE


# ---------------------------------------------------------------- transcripts


def test_transcript_lists_messages_with_attachment_links():
    data = transcript_text(booking_id=5, title="Mock", channel_name="session-5-ann", lines=[
        TranscriptLine(START, "Ann", "Hi\r\nthere", ("https://cdn.example/a.pdf",)),
        TranscriptLine(START + timedelta(minutes=1), "Coachbot (bot)", "", (), ("Session",)),
    ], generated_at=END).decode()
    assert data.splitlines() == [
        "Transcript of #session-5-ann: Mock (booking #5)",
        "Generated 2026-11-24 11:00 UTC; times are UTC.",
        "",
        "[2026-11-24 10:00] Ann: Hi",
        "there",
        "    [attachment] https://cdn.example/a.pdf",
        "[2026-11-24 10:01] Coachbot (bot):",
        "    [embed] Session",
    ]


def test_a_huge_transcript_is_cut_to_fit():
    lines = [TranscriptLine(START, "Ann", "x" * 1000) for _ in range(100)]
    data = transcript_text(booking_id=5, title="Mock", channel_name="c", lines=lines,
                           generated_at=END, max_bytes=5000)
    assert len(data) <= 5000 and data.endswith(b"may be]\n")


# ---------------------------------------------------------------- /reminders


@pytest.mark.parametrize(("text", "offsets"), [
    ("24h, 1h", (1440, 60)), ("90", (90,)), ("1d;30m", (1440, 30)), ("none", ()),
    ("default", None), ("  DEFAULT ", None),
])
def test_parse_student_offsets(text, offsets):
    assert parse_student_offsets(text) == offsets


def test_describe_preference():
    assert "off" in describe_preference(ReminderPreference(enabled=False))
    assert "1 day, 1 h before" in describe_preference(ReminderPreference(offsets=(1440, 60)))


def test_the_start_reminder_says_how_to_join():
    common = {"title": "Mock", "coach_name": "Carla", "student_id": STUDENT,
              "start_at": START, "for_coach": False, "late": False}
    assert "Join button" in reminder_text("start", **common)
    assert "<#77>" in reminder_text("start", **common, channel_id=77, has_link=False)
    assert reminder_text("reminder", **common).startswith("Reminder: **Mock** with **Carla**")
    assert f"with <@{STUDENT}>" in reminder_text("reminder", **{**common, "for_coach": True})
