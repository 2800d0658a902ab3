"""Referral codes and what the bookings made with them earned."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession


class ReferralRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
