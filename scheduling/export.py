"""`/coaching export from to`: the server's bookings that start in a date range, as CSV.

Dates are calendar days in UTC, both included. Text that came from users (offering titles,
coach names) is kept as typed, except that a leading ``=``, ``+``, ``-``, ``@``, tab or
carriage return gets a ``'`` in front, so spreadsheet apps never run it as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Protocol

from scheduling.errors import InvalidInput
from scheduling.money import ZERO_DECIMAL

MAX_DAYS: Final = 3660
COLUMNS: Final = ("booking_id", "status", "start_utc", "end_utc", "offering", "coach",
                  "coach_user_id", "student_user_id", "reschedules", "amount", "currency",
                  "payment_status", "refunded", "created_utc")
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


class BookingRecord(Protocol):
    id: int
    status: str
    start_at: datetime
    end_at: datetime
    student_id: int
    reschedule_count: int
    created_at: datetime


class OfferingRecord(Protocol):
    title: str


class CoachRecord(Protocol):
    user_id: int
    display_name: str


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


class ExportSource(Protocol):
    async def guild_bookings(self, guild_id: int, start: datetime, end: datetime
                             ) -> Sequence[tuple[BookingRecord, OfferingRecord, CoachRecord]]: ...
    async def payments(self, booking_ids: Sequence[int]) -> Sequence[PaymentRecord]: ...
    async def refunds(self, payment_ids: Sequence[int]) -> Sequence[RefundRecord]: ...


class ExportUnitOfWork(Protocol):
    stats: ExportSource


@dataclass(frozen=True)
class Export:
    filename: str
    data: bytes
    rows: int
    first: date
    last: date


def parse_day(text: str, label: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"`{label}` must be a date like 2026-11-01 (year-month-day), not "
                           f"{text!r}.") from None


def date_range(first_text: str, last_text: str) -> tuple[date, date]:
    first, last = parse_day(first_text, "from"), parse_day(last_text, "to")
    if last < first:
        raise InvalidInput("`to` is before `from`: give the earlier date first.")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidInput(f"That range is too long: export at most {MAX_DAYS} days at once.")
    return first, last


def safe_cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _minor_text(minor: int, currency: str) -> str:
    """Minor units as a decimal (two places; zero-decimal currencies as whole numbers)."""
    if currency.upper() in ZERO_DECIMAL:
        return str(minor)
    sign = "-" if minor < 0 else ""
    minor = abs(minor)
    return f"{sign}{minor // 100}.{minor % 100:02d}"


async def export_bookings(uow: ExportUnitOfWork, *, guild_id: int, first_text: str,
                          last_text: str) -> Export:
    first, last = date_range(first_text, last_text)
    start = datetime.combine(first, time(), tzinfo=UTC)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=UTC)
    rows = list(await uow.stats.guild_bookings(guild_id, start, end))
    payments = {p.booking_id: p for p in await uow.stats.payments([b.id for b, _, _ in rows])}
    refunded: dict[int, int] = {}
    for r in await uow.stats.refunds([p.id for p in payments.values()]):
        if r.status == "succeeded":
            refunded[r.payment_id] = refunded.get(r.payment_id, 0) + r.amount_minor
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for booking, offering, coach in rows:
        payment = payments.get(booking.id)
        writer.writerow([
            booking.id, booking.status, _iso(booking.start_at), _iso(booking.end_at),
            safe_cell(offering.title), safe_cell(coach.display_name), str(coach.user_id),
            str(booking.student_id), booking.reschedule_count,
            _minor_text(payment.amount_minor, payment.currency) if payment else "",
            payment.currency.upper() if payment else "",
            payment.status if payment else "",
            _minor_text(refunded.get(payment.id, 0), payment.currency) if payment else "",
            _iso(booking.created_at)])
    data = out.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8
    return Export(filename=f"bookings-{first.isoformat()}-to-{last.isoformat()}.csv",
                  data=data, rows=len(rows), first=first, last=last)
