"""Packages, their purchases and the credits spent on bookings."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession


class PackageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
