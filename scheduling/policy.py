"""Cancellation and rescheduling policy: refund tiers by notice, enforced, never just shown."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from scheduling.errors import InvalidInput


@dataclass(frozen=True, order=True)
class RefundTier:
    """Cancelling with at least `min_notice_hours` before the start refunds `refund_percent`."""

    min_notice_hours: int
    refund_percent: int


@dataclass(frozen=True)
class Policy:
    """Tiers sorted longest notice first. Less notice than any tier: no self-service cancel."""

    tiers: tuple[RefundTier, ...] = (RefundTier(24, 100),)
    max_reschedules: int = 1
    reschedule_min_notice_hours: int = 24

    def __post_init__(self) -> None:
        object.__setattr__(self, "tiers", tuple(sorted(self.tiers, reverse=True)))

    def refund_percent(self, notice: timedelta) -> int | None:
        """The refund a student gets for cancelling with `notice` left, or None: not allowed."""
        for tier in self.tiers:
            if notice >= timedelta(hours=tier.min_notice_hours):
                return tier.refund_percent
        return None

    def refund_amount(self, paid_minor: int, notice: timedelta) -> int | None:
        percent = self.refund_percent(notice)
        if percent is None:
            return None
        return paid_minor * percent // 100

    def may_reschedule(self, notice: timedelta, done: int) -> bool:
        return done < self.max_reschedules and notice >= timedelta(
            hours=self.reschedule_min_notice_hours)

    def describe(self) -> list[str]:
        lines = [f"{t.min_notice_hours} h or more before: {t.refund_percent} % refund"
                 for t in self.tiers]
        if self.tiers:
            lines.append(f"Under {self.tiers[-1].min_notice_hours} h: no self-service "
                         "cancellation (the coach can still cancel)")
        else:
            lines.append("No self-service cancellation (the coach can still cancel)")
        if self.max_reschedules:
            lines.append(f"Reschedule up to {self.max_reschedules}x, until "
                         f"{self.reschedule_min_notice_hours} h before")
        else:
            lines.append("No rescheduling")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "tiers": [{"min_notice_hours": t.min_notice_hours, "refund_percent": t.refund_percent}
                      for t in self.tiers],
            "max_reschedules": self.max_reschedules,
            "reschedule_min_notice_hours": self.reschedule_min_notice_hours,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        tiers = tuple(RefundTier(int(t["min_notice_hours"]), int(t["refund_percent"]))
                      for t in data.get("tiers", ()))
        return cls(tiers=tiers, max_reschedules=int(data.get("max_reschedules", 1)),
                   reschedule_min_notice_hours=int(data.get("reschedule_min_notice_hours", 24)))


DEFAULT_POLICY = Policy()


def make_policy(
    tiers: Sequence[tuple[int, int]], *, max_reschedules: int = 1,
    reschedule_min_notice_hours: int = 24,
) -> Policy:
    """Validate what an admin or coach typed and build the policy."""
    seen: set[int] = set()
    for hours, percent in tiers:
        if not 0 <= hours <= 24 * 60:
            raise InvalidInput("Notice must be between 0 and 1440 hours (60 days).")
        if not 0 <= percent <= 100:
            raise InvalidInput("A refund percentage must be between 0 and 100.")
        if hours in seen:
            raise InvalidInput(f"Two tiers use the same notice ({hours} h). Give each its own.")
        seen.add(hours)
    if not 0 <= max_reschedules <= 10:
        raise InvalidInput("Reschedules allowed must be between 0 and 10.")
    if not 0 <= reschedule_min_notice_hours <= 24 * 60:
        raise InvalidInput("Reschedule notice must be between 0 and 1440 hours.")
    policy = Policy(tuple(RefundTier(h, p) for h, p in tiers), max_reschedules,
                    reschedule_min_notice_hours)
    refunds = [t.refund_percent for t in policy.tiers]
    if refunds != sorted(refunds, reverse=True):
        raise InvalidInput("More notice must never refund less: order the tiers so refunds "
                           "shrink as the session gets closer.")
    return policy

