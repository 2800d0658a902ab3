"""`/coach stats [period]`: a coach's figures over a period.

Sessions completed, cancelled and no-shows (by whom); revenue and refunds per currency (from
payments and succeeded refunds of the period's bookings); the average rating of those
sessions; utilisation (booked time over offered time, offered time being the coach's
schedules' hours expanded day by day in each schedule's timezone, date overrides replacing a
day's hours, the union over schedules); the busiest weekdays and hours in the coach's
timezone; and sessions per week for the chart.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final, Protocol

from scheduling.errors import InvalidInput, NotAllowed, NotFound
from scheduling.money import format_money
from scheduling.slots import load_zone, merge_windows, wall_clock

PERIODS: Final = {"7d": ("the last 7 days", 7), "30d": ("the last 30 days", 30),
                  "90d": ("the last 90 days", 90), "365d": ("the last 12 months", 365)}
DEFAULT_PERIOD: Final = "30d"
HELD: Final = ("confirmed", "in_progress", "completed", "no_show_student", "no_show_coach")
PAID: Final = ("paid", "refunded", "partially_refunded")
WEEKDAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
Interval = tuple[datetime, datetime]


class BookingRecord(Protocol):
    id: int
    status: str
    start_at: datetime
    end_at: datetime


class PaymentRecord(Protocol):
    id: int
    booking_id: int
    amount_minor: int
    currency: str
    status: str


class RefundRecord(Protocol):
    payment_id: int
    amount_minor: int
    status: str


class RatingRecord(Protocol):
    booking_id: int
    stars: int


class WindowRecord(Protocol):
    weekday: int
    start_minute: int
    end_minute: int


class OverrideRecord(Protocol):
    day: date
    start_minute: int | None
    end_minute: int | None


class ScheduleRecord(Protocol):
    id: int
    timezone: str


class CoachRecord(Protocol):
    id: int
    user_id: int
    display_name: str
    timezone: str


class StatsSource(Protocol):
    async def bookings(self, coach_id: int, start: datetime, end: datetime
                       ) -> Sequence[BookingRecord]: ...
    async def payments(self, booking_ids: Sequence[int]) -> Sequence[PaymentRecord]: ...
    async def refunds(self, payment_ids: Sequence[int]) -> Sequence[RefundRecord]: ...
    async def ratings(self, booking_ids: Sequence[int]) -> Sequence[RatingRecord]: ...


class Schedules(Protocol):
    async def list_for_coach(self, coach_id: int) -> Sequence[ScheduleRecord]: ...
    async def windows(self, schedule_id: int) -> Sequence[WindowRecord]: ...
    async def overrides(self, schedule_id: int, *, since: date | None = None
                        ) -> Sequence[OverrideRecord]: ...


class Coaches(Protocol):
    async def get_by_user(self, guild_id: int, user_id: int) -> CoachRecord | None: ...


class StatsUnitOfWork(Protocol):
    stats: StatsSource
    schedules: Schedules
    coaches: Coaches


# ---------------------------------------------------------------- offered time


@dataclass(frozen=True)
class ScheduleHours:
    timezone: str
    weekly: dict[int, tuple[tuple[int, int], ...]]  # weekday -> merged minute windows
    overrides: dict[date, tuple[tuple[int, int], ...]]  # date -> windows (() = day off)


def schedule_hours(timezone: str, windows: Iterable[WindowRecord],
                   overrides: Iterable[OverrideRecord]) -> ScheduleHours:
    weekly: dict[int, list[tuple[int, int]]] = {d: [] for d in range(7)}
    for w in windows:
        weekly[w.weekday].append((w.start_minute, w.end_minute))
    days: dict[date, list[tuple[int, int]]] = {}
    for o in overrides:
        hours = days.setdefault(o.day, [])
        if o.start_minute is not None and o.end_minute is not None:
            hours.append((o.start_minute, o.end_minute))
    return ScheduleHours(timezone, {d: merge_windows(v) for d, v in weekly.items()},
                         {d: merge_windows(v) for d, v in days.items()})


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[list[datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def offered_intervals(schedules: Iterable[ScheduleHours], start: datetime,
                      end: datetime) -> list[Interval]:
    """The union of the schedules' hours within [start, end), as UTC intervals."""
    out: list[Interval] = []
    for hours in schedules:
        zone = load_zone(hours.timezone)
        day = start.astimezone(zone).date() - timedelta(days=1)
        last = end.astimezone(zone).date() + timedelta(days=1)
        while day <= last:
            windows = hours.overrides.get(day, hours.weekly.get(day.weekday(), ()))
            for first, stop in windows:
                a = wall_clock(day, first, zone).astimezone(UTC)
                b = wall_clock(day, stop, zone).astimezone(UTC)
                a, b = max(a, start), min(b, end)
                if a < b:
                    out.append((a, b))
            day += timedelta(days=1)
    return merge_intervals(out)


def _total(intervals: Iterable[Interval]) -> timedelta:
    return sum((e - s for s, e in intervals), timedelta())


# ---------------------------------------------------------------- the figures


@dataclass(frozen=True)
class Stats:
    coach_name: str
    period_label: str
    start: datetime
    end: datetime
    completed: int
    cancelled: int
    no_show_student: int
    no_show_coach: int
    upcoming: int
    revenue: dict[str, int]  # currency -> minor units
    refunds: dict[str, int]
    average_rating: str  # "4.5" or "—"
    rating_count: int
    booked: timedelta
    offered: timedelta
    busiest_weekdays: tuple[tuple[str, int], ...]
    busiest_hours: tuple[tuple[int, int], ...]  # local hour, sessions
    per_week: tuple[tuple[date, int], ...]  # Monday (coach's timezone), sessions

    @property
    def utilisation(self) -> float | None:
        if self.offered <= timedelta():
            return None
        return self.booked / self.offered

    def utilisation_text(self) -> str:
        if self.utilisation is None:
            return "no hours offered in this period"
        hours = self.booked.total_seconds() / 3600
        offered = self.offered.total_seconds() / 3600
        return f"{self.utilisation * 100:.1f}% ({hours:g} h booked of {offered:g} h offered)"

    def money_text(self, amounts: dict[str, int]) -> str:
        if not amounts:
            return "none"
        return ", ".join(format_money(amounts[c], c) for c in sorted(amounts))


def _average(stars: Sequence[int]) -> str:
    if not stars:
        return "—"
    tenths = (sum(stars) * 20 + len(stars)) // (len(stars) * 2)
    return f"{tenths // 10}.{tenths % 10}"


def compute(*, coach_name: str, timezone: str, period_label: str, start: datetime,
            end: datetime, now: datetime, bookings: Sequence[BookingRecord],
            payments: Sequence[PaymentRecord], refunds: Sequence[RefundRecord],
            ratings: Sequence[RatingRecord], offered: Sequence[Interval]) -> Stats:
    zone = load_zone(timezone)
    by_status = Counter(b.status for b in bookings)
    held = [b for b in bookings if b.status in HELD]
    booked = _total(merge_intervals((max(b.start_at, start), min(b.end_at, end))
                                    for b in held if b.start_at < end and b.end_at > start))
    revenue: Counter[str] = Counter()
    currency_of: dict[int, str] = {}
    for p in payments:
        currency_of[p.id] = p.currency
        if p.status in PAID:
            revenue[p.currency] += p.amount_minor
    refunded: Counter[str] = Counter()
    for r in refunds:
        if r.status == "succeeded" and r.payment_id in currency_of:
            refunded[currency_of[r.payment_id]] += r.amount_minor
    ran = [b for b in held if b.status != "no_show_coach"]
    weekdays = Counter(b.start_at.astimezone(zone).weekday() for b in ran)
    hours = Counter(b.start_at.astimezone(zone).hour for b in ran)
    first_monday = start.astimezone(zone).date()
    first_monday -= timedelta(days=first_monday.weekday())
    weeks: dict[date, int] = {}
    monday = first_monday
    while monday <= end.astimezone(zone).date():
        weeks[monday] = 0
        monday += timedelta(days=7)
    for b in ran:
        local = b.start_at.astimezone(zone).date()
        weeks[local - timedelta(days=local.weekday())] = weeks.get(
            local - timedelta(days=local.weekday()), 0) + 1
    stars = [r.stars for r in ratings]
    return Stats(
        coach_name=coach_name, period_label=period_label, start=start, end=end,
        completed=by_status["completed"], cancelled=by_status["cancelled"],
        no_show_student=by_status["no_show_student"], no_show_coach=by_status["no_show_coach"],
        upcoming=sum(1 for b in held if b.status in ("confirmed", "in_progress")
                     and b.start_at >= now),
        revenue=dict(revenue), refunds=dict(refunded), average_rating=_average(stars),
        rating_count=len(stars), booked=booked, offered=_total(offered),
        busiest_weekdays=tuple((WEEKDAYS[d], n) for d, n in sorted(
            weekdays.items(), key=lambda kv: (-kv[1], kv[0]))[:3]),
        busiest_hours=tuple(sorted(hours.items(), key=lambda kv: (-kv[1], kv[0]))[:3]),
        per_week=tuple(sorted(weeks.items())))


def period_bounds(period: str, now: datetime) -> tuple[str, datetime, datetime]:
    if period not in PERIODS:
        raise InvalidInput(f"Unknown period {period!r}: pick one of the listed periods.")
    label, days = PERIODS[period]
    return label, now - timedelta(days=days), now


async def stats_for(uow: StatsUnitOfWork, *, guild_id: int, caller_id: int, is_admin: bool,
                    coach_user_id: int, coach_name: str, period: str, now: datetime) -> Stats:
    """The figures of a coach; a coach sees their own, admins any coach's."""
    if coach_user_id != caller_id and not is_admin:
        raise NotAllowed("You can see your own stats; server admins (Manage Server) can see "
                         "any coach's.")
    coach = await uow.coaches.get_by_user(guild_id, coach_user_id)
    if coach is None:
        raise NotFound(f"{coach_name} is not a coach on this server, so there are no stats.")
    label, start, end = period_bounds(period, now)
    bookings = list(await uow.stats.bookings(coach.id, start, end))
    ids = [b.id for b in bookings]
    payments = list(await uow.stats.payments(ids))
    refunds = list(await uow.stats.refunds([p.id for p in payments]))
    ratings = list(await uow.stats.ratings(ids))
    hours = []
    for schedule in await uow.schedules.list_for_coach(coach.id):
        hours.append(schedule_hours(
            schedule.timezone, await uow.schedules.windows(schedule.id),
            await uow.schedules.overrides(schedule.id,
                                          since=(start - timedelta(days=2)).date())))
    return compute(coach_name=coach.display_name, timezone=coach.timezone, period_label=label,
                   start=start, end=end, now=now, bookings=bookings, payments=payments,
                   refunds=refunds, ratings=ratings,
                   offered=offered_intervals(hours, start, end))
