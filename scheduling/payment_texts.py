"""The words students read about their payments and refunds (pure; sent as DMs by the bot).

Times are Discord timestamps, which every client shows in the reader's own timezone. Titles
come from coaches and are shown as given; the bot's messages never ping anyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from scheduling.money import Money

MAX_ALTERNATIVES: Final = 5


def stamp(moment: datetime, style: str = "F") -> str:
    return f"<t:{int(moment.timestamp())}:{style}>"


def _session(booking_id: int, title: str, start: datetime) -> str:
    return f"**{title}** on {stamp(start)} (booking #{booking_id})"


def _alternatives(starts: Sequence[datetime]) -> str:
    if not starts:
        return ("Nothing nearby is free right now; run `/book` to see the coach's other "
                "times.")
    listed = "\n".join(f"- {stamp(s)}" for s in starts[:MAX_ALTERNATIVES])
    return f"The nearest free times are:\n{listed}\nRun `/book` to book one of them."


def late_payment_notice(*, booking_id: int, title: str, start: datetime, refund: Money | None,
                        refund_status: str | None, alternatives: Sequence[datetime]) -> str:
    """Payment arrived after the hold ran out and the time was taken meanwhile."""
    head = (f"Your payment for {_session(booking_id, title, start)} arrived after your hold "
            "on that time ran out, and someone else had booked it in the meantime, so the "
            "booking could not be confirmed.")
    if refund is None:
        money = "Nothing was charged."
    elif refund_status == "succeeded":
        money = f"We refunded the full {refund} to you."
    else:
        money = (f"A full refund of {refund} is on its way to you; you will get another "
                 "message when it is complete.")
    return f"{head} {money}\n{_alternatives(alternatives)}"


def payment_failed_notice(*, booking_id: int, title: str, start: datetime,
                          alternatives: Sequence[datetime]) -> str:
    return (f"Your payment for {_session(booking_id, title, start)} did not go through, so "
            "the time is no longer held for you and nothing was charged. If it is still "
            f"free you can book it again.\n{_alternatives(alternatives)}")


def refund_notice(*, booking_id: int, title: str, start: datetime, amount: Money, status: str,
                  automatic_reason: str | None = None, started: bool = False) -> str:
    """A refund reached a final status (or, `started`, an automatic refund was sent)."""
    session = _session(booking_id, title, start)
    why = ""
    if automatic_reason:
        why = " " + automatic_reason.removeprefix("automatic:").strip().capitalize() + "."
    if started:
        return (f"A refund of {amount} for {session} is on its way to you.{why} You will get "
                "another message when it is complete.")
    if status == "succeeded":
        return (f"Your refund of {amount} for {session} is complete.{why} Depending on your "
                "bank it can take 5 to 10 business days to show on your statement.")
    return (f"Your refund of {amount} for {session} could not be completed (Stripe reports it "
            f"as {status}).{why} Please contact a server admin so they can pay you back "
            "another way.")
