"""The `/book` summary's choices beyond a single time: repeat weekly (a series booked all
together), pay with package credits instead of money, and the referral code given to `/book`.

    starts = occurrences(info, start, weeks)             # [start] when weeks == 1
    bookings = await confirm_times(uow_factory, student, guild_id=guild_id,
                                   offering_id=offering_id, starts=starts, answers=answers,
                                   now=now, use_credits=True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from scheduling.book_flow import (
    OfferingInfo,
    check_eligible,
    offering_info,
    payments_not_ready,
)
from scheduling.booking import BookingRecord, BookingRequest, UnitOfWorkFactory, book, book_many
from scheduling.credits import spend_credits
from scheduling.eligibility import StudentFacts
from scheduling.errors import NotConfigured
from scheduling.money import format_money
from scheduling.provisioning import timestamp
from scheduling.referrals import Referral
from scheduling.series import MAX_WEEKS, new_series_id, weekly_starts

REPEAT_CHOICES = tuple(range(1, MAX_WEEKS + 1))


def occurrences(info: OfferingInfo, start: datetime, weeks: int) -> list[datetime]:
    """The session's start and, for a weekly series, the same time in the coach's timezone on
    the following weeks."""
    return weekly_starts(start, weeks, info.coach_zone) if weeks > 1 else [start]


def repeat_label(weeks: int) -> str:
    return "Just this once" if weeks == 1 else f"Weekly for {weeks} weeks"


def series_text(info: OfferingInfo, starts: Sequence[datetime]) -> str:
    """What the summary says about a weekly series: every date and what it costs in all."""
    lines = [f"**Weekly for {len(starts)} weeks** (same time each week, in the coach's "
             "timezone):"]
    lines += [f"{i}. {timestamp(s, 'F')}" for i, s in enumerate(starts, start=1)]
    if not info.is_free:
        total = format_money(info.price_minor * len(starts), info.currency)
        lines.append(f"{len(starts)} × {info.price_text} = **{total}**, paid once.")
    return "\n".join(lines)


def credits_label(count: int, remaining: int) -> str:
    word = "a credit" if count == 1 else f"{count} credits"
    return f"Use {word} ({remaining} left)"


def with_referral(request: BookingRequest, referral: Referral | None) -> BookingRequest:
    if referral is None:
        return request
    return replace(request, referrer_id=referral.referrer_id,
                   referral_percent=referral.percent)


async def confirm_times(uow_factory: UnitOfWorkFactory, student: StudentFacts, *,
                        guild_id: int, offering_id: int, starts: Sequence[datetime],
                        answers: tuple[tuple[str, str], ...], now: datetime,
                        use_credits: bool = False,
                        referral: Referral | None = None) -> list[BookingRecord]:
    """Book `starts` (one time, or a weekly series all together) for a free offering, or with
    the student's package credits (one per session, spent in the same transaction). The
    offering and the student's eligibility are read again (things change while a form is
    open). Raises SlotTaken (one time), TimesUnavailable (a series: which weeks are not
    free), NotAllowed (not eligible, not enough credits), NotFound (unpublished meanwhile),
    NotConfigured (a paid offering without credits; nothing is held)."""
    async with uow_factory() as uow:  # read only
        info = await offering_info(uow, offering_id, guild_id)
        if not info.is_free and not use_credits:
            raise NotConfigured(payments_not_ready(info))
        await check_eligible(uow, student, guild_id=guild_id,
                             coach_user_id=info.coach_user_id, offering_id=offering_id,
                             now=now)
    request = with_referral(BookingRequest(info.offering_id, student.user_id, starts[0],
                                           answers), referral)

    async def spend(uow: Any, bookings: Sequence[BookingRecord]) -> None:
        await spend_credits(uow, guild_id=info.guild_id, student_id=student.user_id,
                            offering_id=info.offering_id,
                            booking_ids=[b.id for b in bookings], now=now)

    on_booked = spend if use_credits else None
    if len(starts) == 1:
        return [await book(uow_factory, request, now=now, on_booked=on_booked)]
    return await book_many(uow_factory, request, starts, series_id=new_series_id(), now=now,
                           on_booked=on_booked)


def series_booked_message(info: OfferingInfo, bookings: Sequence[BookingRecord], *,
                          credits: bool) -> str:
    lines = [f"✅ You're booked weekly: **{info.title}** with **{info.coach_name}**, "
             f"{len(bookings)} sessions:"]
    lines += [f"{i}. {timestamp(b.start_at, 'F')}" for i, b in enumerate(bookings, start=1)]
    if credits:
        lines.append(f"{len(bookings)} credit{'s' if len(bookings) != 1 else ''} used.")
    lines.append("Each session has its own private channel, reminders and calendar invite; "
                 "cancel or move one with `/cancel` or `/reschedule`, or cancel the rest of "
                 "the series from any of them.")
    return "\n".join(lines)
