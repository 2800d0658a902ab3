"""The availability service (`/availability ...`) over in-memory repositories."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling import availability as service
from scheduling.errors import InvalidInput, NotFound
from scheduling.slots import MINUTES_PER_DAY

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday; 10:00 in Berlin
TODAY = date(2026, 11, 23)
MONDAY, TUESDAY, SUNDAY = 0, 1, 6


# ---------------------------------------------------------------- fakes


@dataclass
class FakeSchedule:
    id: int
    coach_id: int
    name: str
    timezone: str
    is_default: bool


@dataclass
class FakeWindow:
    schedule_id: int
    weekday: int
    start_minute: int
    end_minute: int


@dataclass
class FakeOverride:
    schedule_id: int
    day: date
    start_minute: int | None
    end_minute: int | None


class FakeSchedules:
    def __init__(self) -> None:
        self.rows: list[FakeSchedule] = []
        self.window_rows: list[FakeWindow] = []
        self.override_rows: list[FakeOverride] = []
        self.locked: list[int] = []
        self.writes = 0
        self._ids = itertools.count(1)

    async def get_by_name(self, coach_id, name):
        return next((s for s in self.rows if (s.coach_id, s.name) == (coach_id, name)), None)

    async def list_for_coach(self, coach_id):
        mine = [s for s in self.rows if s.coach_id == coach_id]
        return sorted(mine, key=lambda s: (not s.is_default, s.name))

    async def create(self, *, coach_id, name, timezone, is_default=False):
        self.writes += 1
        schedule = FakeSchedule(next(self._ids), coach_id, name, timezone, is_default)
        self.rows.append(schedule)
        return schedule

    async def lock(self, schedule_id):
        self.locked.append(schedule_id)

    async def set_timezone(self, schedule_id, timezone):
        self.writes += 1
        schedule = next(s for s in self.rows if s.id == schedule_id)
        schedule.timezone = timezone
        return schedule

    async def windows(self, schedule_id, weekday=None):
        rows = [w for w in self.window_rows if w.schedule_id == schedule_id
                and (weekday is None or w.weekday == weekday)]
        return sorted(rows, key=lambda w: (w.weekday, w.start_minute))

    async def replace_windows(self, schedule_id, weekday, windows):
        await self.clear_windows(schedule_id, weekday)
        rows = [FakeWindow(schedule_id, weekday, a, b) for a, b in windows]
        self.window_rows.extend(rows)
        return rows

    async def clear_windows(self, schedule_id, weekday=None):
        self.writes += 1
        gone = [w for w in self.window_rows if w.schedule_id == schedule_id
                and (weekday is None or w.weekday == weekday)]
        self.window_rows = [w for w in self.window_rows if w not in gone]
        return len(gone)

    async def overrides(self, schedule_id, *, since=None, day=None):
        rows = [o for o in self.override_rows if o.schedule_id == schedule_id
                and (since is None or o.day >= since) and (day is None or o.day == day)]
        return sorted(rows, key=lambda o: (o.day, o.start_minute is not None,
                                           o.start_minute or 0))

    async def replace_overrides(self, schedule_id, day, windows):
        await self.remove_overrides(schedule_id, day)
        spans = [(None, None)] if windows is None else list(windows)
        rows = [FakeOverride(schedule_id, day, a, b) for a, b in spans]
        self.override_rows.extend(rows)
        return rows

    async def remove_overrides(self, schedule_id, day):
        self.writes += 1
        gone = [o for o in self.override_rows if (o.schedule_id, o.day) == (schedule_id, day)]
        self.override_rows = [o for o in self.override_rows if o not in gone]
        return len(gone)


class FakeCoaches:
    def __init__(self, *coaches) -> None:
        self.coaches = list(coaches)
        self.writes = 0

    async def get_by_user(self, guild_id, user_id):
        return next((c for c in self.coaches
                     if (c.guild_id, c.user_id) == (guild_id, user_id)), None)

    async def update_profile(self, coach, **values):
        self.writes += 1
        for key, value in values.items():
            setattr(coach, key, value)
        return coach


class FakeUow:
    def __init__(self, coach) -> None:
        self.schedules = FakeSchedules()
        self.coaches = FakeCoaches(coach)

    @property
    def writes(self) -> int:
        return self.schedules.writes + self.coaches.writes


def run(coroutine):
    """Run a coroutine that awaits nothing real (the fakes never suspend)."""
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    raise AssertionError("the coroutine suspended")


def make_coach(timezone="Europe/Berlin"):
    return SimpleNamespace(id=7, guild_id=1, user_id=70, display_name="Ada", timezone=timezone)


@pytest.fixture
def coach():
    return make_coach()


@pytest.fixture
def uow(coach):
    return FakeUow(coach)


def add(uow, coach, weekday, start, end, schedule=None):
    return run(service.add_window(uow, coach, weekday=weekday, start=start, end=end,
                                  schedule=schedule))


def week(uow, schedule_name="default"):
    schedule = run(uow.schedules.get_by_name(7, schedule_name))
    rows = run(uow.schedules.windows(schedule.id))
    return [(w.weekday, w.start_minute, w.end_minute) for w in rows]


def overrides(uow, schedule_name="default"):
    schedule = run(uow.schedules.get_by_name(7, schedule_name))
    return [(o.day, o.start_minute, o.end_minute)
            for o in run(uow.schedules.overrides(schedule.id))]


# ---------------------------------------------------------------- add


def test_add_creates_the_default_schedule_in_the_coachs_zone(uow, coach):
    change = add(uow, coach, MONDAY, "9", "12")
    assert change.schedule == service.ScheduleRef("default", "Europe/Berlin", True, True)
    assert (change.before, change.after, change.merged) == ((), ((540, 720),), False)
    assert week(uow) == [(MONDAY, 540, 720)]
    assert uow.schedules.locked == [run(uow.schedules.get_by_name(7, "default")).id]


@pytest.mark.parametrize(("start", "end", "after"), [
    ("12", "5pm", ((540, 1020),)),  # touching
    ("11:30", "13:00", ((540, 780),)),  # overlapping
    ("8", "18", ((480, 1080),)),  # around
])
def test_add_merges_overlapping_or_touching_windows_and_says_so(uow, coach, start, end, after):
    add(uow, coach, MONDAY, "9", "12")
    change = add(uow, coach, MONDAY, start, end)
    assert change.merged
    assert change.after == after
    assert week(uow) == [(MONDAY, a, b) for a, b in after]


def test_add_bridging_two_windows_merges_all_three(uow, coach):
    add(uow, coach, MONDAY, "9", "12")
    add(uow, coach, MONDAY, "13", "17")
    change = add(uow, coach, MONDAY, "12", "13")
    assert change.merged and change.before == ((540, 720), (780, 1020))
    assert week(uow) == [(MONDAY, 540, 1020)]


def test_add_separate_window_and_other_weekdays_are_kept_apart(uow, coach):
    add(uow, coach, MONDAY, "9", "12")
    change = add(uow, coach, MONDAY, "13:00", "17:00")
    assert not change.merged
    add(uow, coach, TUESDAY, "9", "12")
    assert week(uow) == [(MONDAY, 540, 720), (MONDAY, 780, 1020), (TUESDAY, 540, 720)]


def test_add_inside_existing_hours_changes_nothing(uow, coach):
    add(uow, coach, MONDAY, "9", "17")
    writes = uow.writes
    change = add(uow, coach, MONDAY, "10", "11")
    assert change.unchanged and not change.merged
    assert uow.writes == writes


@pytest.mark.parametrize(("start", "end", "window"), [
    ("9", "17", (540, 1020)), ("9:30", "10:00", (570, 600)), ("09:30", "24:00", (570, 1440)),
    ("9am", "5:15 pm", (540, 1035)), ("0", "24:00", (0, 1440)), ("12am", "12pm", (0, 720)),
])
def test_add_accepts_the_time_formats_coaches_type(uow, coach, start, end, window):
    assert add(uow, coach, SUNDAY, start, end).after == (window,)


@pytest.mark.parametrize(("start", "end", "message"), [
    ("17", "9", "must be after the start"),
    ("9", "9", "must be after the start"),
    ("9", "25:00", "`25:00` is not a time of day"),
    ("24:00", "24:00", "`24:00` is not a time of day"),
    ("noon", "13", "`noon` is not a time of day"),
    ("9:75", "10", "`9:75` is not a time of day"),
])
def test_add_refuses_bad_times_and_writes_nothing(uow, coach, start, end, message):
    with pytest.raises(InvalidInput, match=message):
        add(uow, coach, MONDAY, start, end)
    assert uow.writes == 0
    assert uow.schedules.window_rows == []


def test_add_refuses_a_weekday_outside_the_week(uow, coach):
    with pytest.raises(InvalidInput, match="Monday to Sunday"):
        add(uow, coach, 7, "9", "10")


def test_add_to_a_named_schedule_creates_it(uow, coach):
    change = add(uow, coach, MONDAY, "18", "20", schedule="  Evenings ")
    assert (change.schedule.name, change.schedule.created, change.schedule.is_default) == (
        "evenings", True, False)
    assert change.schedule.label == "your schedule `evenings`"
    again = add(uow, coach, TUESDAY, "18", "20", schedule="evenings")
    assert not again.schedule.created
    assert week(uow, "evenings") == [(MONDAY, 1080, 1200), (TUESDAY, 1080, 1200)]


def test_a_day_holds_at_most_twelve_separate_windows(uow, coach):
    for hour in range(0, 24, 2):
        add(uow, coach, MONDAY, str(hour), str(hour + 1))
    before = week(uow)
    with pytest.raises(InvalidInput, match="13 separate time windows; the limit is 12"):
        add(uow, coach, MONDAY, "1:15", "1:45")
    assert week(uow) == before
    add(uow, coach, MONDAY, "1", "2")  # joining two windows is fine
    assert len(week(uow)) == 11


# ---------------------------------------------------------------- remove and clear


def remove(uow, coach, weekday, start, end, schedule=None):
    return run(service.remove_window(uow, coach, weekday=weekday, start=start, end=end,
                                     schedule=schedule))


def test_remove_splits_a_window(uow, coach):
    add(uow, coach, MONDAY, "9", "17")
    change = remove(uow, coach, MONDAY, "12", "13")
    assert change.after == ((540, 720), (780, 1020))
    assert week(uow) == [(MONDAY, 540, 720), (MONDAY, 780, 1020)]


def test_remove_trims_and_spans_several_windows(uow, coach):
    add(uow, coach, MONDAY, "9", "12")
    add(uow, coach, MONDAY, "13", "17")
    add(uow, coach, TUESDAY, "9", "12")
    assert remove(uow, coach, MONDAY, "11", "14").after == ((540, 660), (840, 1020))
    assert remove(uow, coach, MONDAY, "0", "24:00").after == ()
    assert week(uow) == [(TUESDAY, 540, 720)]


def test_remove_says_when_nothing_matched_and_writes_nothing(uow, coach):
    add(uow, coach, MONDAY, "9", "12")
    writes = uow.writes
    with pytest.raises(NotFound, match=r"Monday has no hours between 12:00 and 13:00 in your "
                                       r"default schedule\. Monday: 09:00–12:00\."):
        remove(uow, coach, MONDAY, "12", "13")
    with pytest.raises(NotFound, match="Tuesday: no hours"):
        remove(uow, coach, TUESDAY, "9", "10")
    assert uow.writes == writes


def test_remove_from_an_unknown_schedule_does_not_create_it(uow, coach):
    with pytest.raises(NotFound, match="no schedule called `weekends`"):
        remove(uow, coach, MONDAY, "9", "10", schedule="weekends")
    assert uow.schedules.rows == []


def test_clear_one_weekday_or_the_week_and_keep_overrides(uow, coach):
    add(uow, coach, MONDAY, "9", "12")
    add(uow, coach, MONDAY, "13", "17")
    add(uow, coach, TUESDAY, "9", "12")
    run(service.set_override(uow, coach, day="2026-11-30", now=NOW, off=True))
    result = run(service.clear_windows(uow, coach, weekday=MONDAY))
    assert result.removed == {MONDAY: ((540, 720), (780, 1020))}
    assert week(uow) == [(TUESDAY, 540, 720)]
    nothing = run(service.clear_windows(uow, coach, weekday=MONDAY))
    assert nothing.removed == {}
    everything = run(service.clear_windows(uow, coach))
    assert (everything.weekday, everything.removed) == (None, {TUESDAY: ((540, 720),)})
    assert week(uow) == []
    assert overrides(uow) == [(date(2026, 11, 30), None, None)]


# ---------------------------------------------------------------- overrides


def override(uow, coach, day, start=None, end=None, off=False, now=NOW, schedule=None):
    return run(service.set_override(uow, coach, day=day, now=now, start=start, end=end,
                                    off=off, schedule=schedule))


def test_override_off_blocks_the_day_and_reports_its_weekly_hours(uow, coach):
    add(uow, coach, MONDAY, "9", "17")
    change = override(uow, coach, "2026-11-30", off=True)
    assert change.after == service.OverrideState(date(2026, 11, 30), True, ())
    assert (change.before, change.weekly) == (None, ((540, 1020),))
    assert overrides(uow) == [(date(2026, 11, 30), None, None)]


def test_override_hours_merge_and_replace_a_block(uow, coach):
    day = date(2026, 12, 1)
    override(uow, coach, "2026-12-01", off=True)
    change = override(uow, coach, "2026-12-01", "10", "12")
    assert change.before.off and change.after.windows == ((600, 720),)
    assert not change.merged
    change = override(uow, coach, "2026-12-01", "12", "14")
    assert change.merged and change.after.windows == ((600, 840),)
    override(uow, coach, "2026-12-01", "16", "17")
    assert overrides(uow) == [(day, 600, 840), (day, 960, 1020)]
    blocked = override(uow, coach, "2026-12-01", off=True)
    assert blocked.before.windows == ((600, 840), (960, 1020))
    assert overrides(uow) == [(day, None, None)]


def test_override_that_changes_nothing_writes_nothing(uow, coach):
    override(uow, coach, "2026-12-01", "10", "12")
    writes = uow.writes
    change = override(uow, coach, "2026-12-01", "10:30", "11")
    assert change.before == change.after
    assert uow.writes == writes


@pytest.mark.parametrize(("day", "message"), [
    ("2026-11-22", r"Sun 22 Nov 2026 is in the past \(today is Mon 23 Nov 2026"),
    ("2027-11-25", "more than 366 days ahead"),
    ("23/11/2026", "`23/11/2026` is not a date. Use YYYY-MM-DD"),
    ("2026-02-30", "`2026-02-30` is not a date"),
    ("tomorrow", "`tomorrow` is not a date"),
    ("", r"`\(empty\)` is not a date"),
])
def test_override_refuses_bad_dates_and_writes_nothing(uow, coach, day, message):
    with pytest.raises(InvalidInput, match=message):
        override(uow, coach, day, off=True)
    assert uow.schedules.override_rows == []


def test_override_accepts_today_and_a_year_ahead(uow, coach):
    override(uow, coach, TODAY.isoformat(), off=True)
    override(uow, coach, (TODAY + timedelta(days=366)).isoformat(), off=True)
    assert len(overrides(uow)) == 2


def test_today_is_the_schedules_today(coach):
    # 09:00 UTC on Monday is still Sunday evening in Pago Pago (UTC-11).
    pago = FakeUow(make_coach("Pacific/Pago_Pago"))
    override(pago, pago.coaches.coaches[0], "2026-11-22", off=True)
    kiritimati = FakeUow(make_coach("Pacific/Kiritimati"))  # UTC+14: already Monday 23:00
    with pytest.raises(InvalidInput, match="in the past"):
        override(kiritimati, kiritimati.coaches.coaches[0], "2026-11-22", off=True)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"off": True, "start": "9", "end": "10"}, "not both"),
    ({"off": True, "start": "9"}, "not both"),
    ({}, "Say what Tue 1 Dec 2026 should be"),
    ({"start": "9"}, "Give both `start` and `end`"),
    ({"end": "9"}, "Give both `start` and `end`"),
    ({"start": "10", "end": "9"}, "must be after the start"),
    ({"start": "9", "end": "25:00"}, "`25:00` is not a time of day"),
])
def test_override_refuses_inconsistent_options(uow, coach, kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        override(uow, coach, "2026-12-01", **kwargs)
    assert uow.writes == 0


def test_clear_override_brings_back_the_weekly_hours(uow, coach):
    add(uow, coach, TUESDAY, "9", "12")
    override(uow, coach, "2026-12-01", off=True)
    change = run(service.clear_override(uow, coach, day="2026-12-01"))
    assert change.before.off and change.after is None and change.weekly == ((540, 720),)
    assert overrides(uow) == []
    with pytest.raises(NotFound, match="Tue 1 Dec 2026 has no override"):
        run(service.clear_override(uow, coach, day="2026-12-01"))


# ---------------------------------------------------------------- timezone


def test_timezone_of_the_default_schedule_is_the_profiles_too(uow, coach):
    add(uow, coach, MONDAY, "9", "17")
    change = run(service.set_timezone(uow, coach, timezone="tokyo"))
    assert (change.before, change.after, change.profile_updated) == (
        "Europe/Berlin", "Asia/Tokyo", True)
    assert coach.timezone == "Asia/Tokyo"
    assert week(uow) == [(MONDAY, 540, 1020)]  # wall-clock hours stay


def test_timezone_of_a_named_schedule_leaves_the_profile(uow, coach):
    add(uow, coach, MONDAY, "18", "20", schedule="evenings")
    change = run(service.set_timezone(uow, coach, timezone="America/New_York",
                                      schedule="evenings"))
    assert not change.profile_updated
    assert coach.timezone == "Europe/Berlin"
    assert run(uow.schedules.get_by_name(7, "evenings")).timezone == "America/New_York"


def test_unknown_timezone_is_refused_before_anything_is_written(uow, coach):
    with pytest.raises(InvalidInput, match="Unknown timezone `Mars/Olympus`"):
        run(service.set_timezone(uow, coach, timezone="Mars/Olympus"))
    assert uow.writes == 0


# ---------------------------------------------------------------- the week


def test_week_view_lines_next_times_and_upcoming_overrides(uow, coach):
    add(uow, coach, MONDAY, "9", "12")
    add(uow, coach, MONDAY, "13", "17")
    add(uow, coach, TUESDAY, "8", "9")
    override(uow, coach, "2026-11-24", off=True)  # next Tuesday is blocked
    override(uow, coach, "2026-12-02", "10", "11")
    view = run(service.week_view(uow, coach, now=NOW))
    assert view.lines[0] == "Times in Europe/Berlin (UTC+01:00, CET)"
    assert view.lines[1] == "Monday: 09:00–12:00, 13:00–17:00"
    assert view.lines[2] == "Tuesday: 08:00–09:00"
    assert view.lines[7] == "Sunday: unavailable"
    starts = [(o.weekday, o.start, o.end) for o in view.occurrences]
    assert starts == [
        # 09:00-12:00 Berlin today is under way (it is 10:00 there): still listed.
        (MONDAY, datetime(2026, 11, 23, 8, tzinfo=UTC), datetime(2026, 11, 23, 11, tzinfo=UTC)),
        (MONDAY, datetime(2026, 11, 23, 12, tzinfo=UTC), datetime(2026, 11, 23, 16, tzinfo=UTC)),
        # Tuesday 24 Nov is blocked: the next Tuesday is 1 Dec.
        (TUESDAY, datetime(2026, 12, 1, 7, tzinfo=UTC), datetime(2026, 12, 1, 8, tzinfo=UTC)),
    ]
    assert [(o.day, o.off) for o in view.overrides] == [
        (date(2026, 11, 24), True), (date(2026, 12, 2), False)]
    extra = view.overrides[1].windows[0]
    assert (extra.start, extra.end) == (datetime(2026, 12, 2, 9, tzinfo=UTC),
                                        datetime(2026, 12, 2, 10, tzinfo=UTC))
    assert view.schedules == ("default",) and view.has_hours


def test_week_view_hides_past_overrides(uow, coach):
    override(uow, coach, "2026-11-24", off=True)
    later = NOW + timedelta(days=2)
    view = run(service.week_view(uow, coach, now=later))
    assert view.overrides == () and not view.has_hours


def test_next_times_follow_daylight_saving(uow, coach):
    add(uow, coach, SUNDAY, "9", "17")
    # Berlin springs forward on Sunday 29 March 2026: 09:00 is then 07:00 UTC, not 08:00.
    view = run(service.week_view(uow, coach, now=datetime(2026, 3, 27, 12, tzinfo=UTC)))
    assert view.occurrences[0].start == datetime(2026, 3, 29, 7, tzinfo=UTC)
    assert view.lines[0] == "Times in Europe/Berlin (UTC+01:00, CET)"


def test_date_suggestions_cover_two_weeks_in_coach_format():
    choices = service.date_suggestions("", TODAY)
    assert len(choices) == 14
    assert choices[0] == ("Mon 23 Nov 2026", "2026-11-23")
    assert choices[8] == ("Tue 1 Dec 2026", "2026-12-01")
    assert service.date_suggestions("dec", TODAY)[0][1] == "2026-12-01"
    assert service.date_suggestions("2026-11-2", TODAY)[0][1] == "2026-11-23"
    assert service.date_suggestions("2027-06-01", TODAY) == [("Tue 1 Jun 2027", "2027-06-01")]
    assert service.date_suggestions("2028-06-01", TODAY) == []
    assert service.date_suggestions("2026-11-20", TODAY) == []


# ---------------------------------------------------------------- properties


windows_strategy = st.lists(
    st.tuples(st.integers(0, MINUTES_PER_DAY - 1), st.integers(1, MINUTES_PER_DAY))
    .filter(lambda w: w[0] < w[1]), max_size=6)


def _minutes(windows):
    return {m for a, b in windows for m in range(a, b)}


@settings(max_examples=200, deadline=None)
@given(windows=windows_strategy, cut=windows_strategy.filter(bool).map(lambda ws: ws[0]))
def test_subtract_window_removes_exactly_those_minutes(windows, cut):
    result = service.subtract_window(windows, cut)
    assert _minutes(result) == _minutes(windows) - set(range(*cut))
    assert all(a < b for a, b in result)
    assert all(b < c for (_, b), (c, _) in itertools.pairwise(result))  # merged, apart


time_text = st.one_of(
    st.text(max_size=12),
    st.from_regex(r"\A\s?\d{1,2}([:.h]\d{2})?\s?([aApP]\.?[mM]\.?)?\s?\Z"),
)


@settings(max_examples=150, deadline=None)
@given(first=st.tuples(time_text, time_text), second=st.tuples(time_text, time_text))
def test_fuzzed_times_are_refused_cleanly_or_stored_merged(first, second):
    coach = make_coach()
    uow = FakeUow(coach)
    for start, end in (first, second):
        before = list(uow.schedules.window_rows)
        try:
            change = add(uow, coach, MONDAY, start, end)
        except InvalidInput as error:
            assert error.user_message
            assert uow.schedules.window_rows == before
            continue
        assert 0 <= change.window[0] < change.window[1] <= MINUTES_PER_DAY
    stored = [(w.start_minute, w.end_minute) for w in uow.schedules.window_rows]
    assert stored == sorted(stored)
    assert all(0 <= a < b <= MINUTES_PER_DAY for a, b in stored)
    assert all(b < c for (_, b), (c, _) in itertools.pairwise(stored))


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=20))
def test_fuzzed_override_dates_are_refused_cleanly_or_stored(text):
    coach = make_coach()
    uow = FakeUow(coach)
    try:
        change = override(uow, coach, text, off=True)
    except InvalidInput as error:
        assert error.user_message
        assert uow.schedules.override_rows == []
        return
    assert TODAY <= change.day <= TODAY + timedelta(days=366)
