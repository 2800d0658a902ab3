"""The unit of work: one transaction, the repositories that share it, commit or roll back."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.engine import SQLITE_BEGIN_OPTION
from storage.repositories import (
    AuditRepository,
    BookingRepository,
    CoachGrantRepository,
    CoachRepository,
    GuildSettingsRepository,
    OfferingRepository,
    ScheduleRepository,
    WebhookEventRepository,
)
from storage.repositories.calendar_feeds import CalendarFeedRepository
from storage.repositories.materials import MaterialRepository
from storage.repositories.packages import PackageRepository
from storage.repositories.payments import PaymentRepository
from storage.repositories.preferences import PreferencesRepository
from storage.repositories.provisioning import ProvisioningRepository
from storage.repositories.ratings import RatingRepository
from storage.repositories.referrals import ReferralRepository
from storage.repositories.reminders import ReminderRepository
from storage.repositories.role_grants import RoleGrantRepository
from storage.repositories.session_tasks import SessionTaskRepository
from storage.repositories.stats import StatsRepository
from storage.repositories.waitlist import WaitlistRepository


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for :class:`UnitOfWork`; objects stay readable after commit (no lazy reloads)."""
    return async_sessionmaker(engine, expire_on_commit=False)


class UnitOfWork:
    """``async with UnitOfWork(factory) as uow: ...; await uow.commit()``.

    Everything done through the repositories is one transaction: it is written by
    :meth:`commit` and rolled back when the block exits without committing (or raises).

    ``immediate=True`` on SQLite starts the transaction with ``BEGIN IMMEDIATE`` on entry, so
    units of work that check-then-write (booking a slot) run one after another. PostgreSQL
    ignores it; lock there with ``uow.bookings.lock_coach(coach_id)``, with the exclusion
    constraint as the final guard.
    """

    guild_settings: GuildSettingsRepository
    coaches: CoachRepository
    audit: AuditRepository
    webhook_events: WebhookEventRepository
    bookings: BookingRepository
    coach_grants: CoachGrantRepository
    schedules: ScheduleRepository
    offerings: OfferingRepository
    provisioning: ProvisioningRepository
    role_grants: RoleGrantRepository
    payments: PaymentRepository
    preferences: PreferencesRepository
    reminders: ReminderRepository
    ratings: RatingRepository
    session_tasks: SessionTaskRepository
    materials: MaterialRepository
    calendar_feeds: CalendarFeedRepository
    stats: StatsRepository
    waitlist: WaitlistRepository
    packages: PackageRepository
    referrals: ReferralRepository

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], *, immediate: bool = False
    ) -> None:
        self._session_factory = session_factory
        self._immediate = immediate
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        """The session of this unit of work (only inside ``async with``)."""
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside its 'async with' block")
        return self._session

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("a UnitOfWork can only be entered once")
        session = self._open_session()
        self._session = session
        self.guild_settings = GuildSettingsRepository(session)
        self.coaches = CoachRepository(session)
        self.audit = AuditRepository(session)
        self.webhook_events = WebhookEventRepository(session)
        self.bookings = BookingRepository(session)
        self.coach_grants = CoachGrantRepository(session)
        self.schedules = ScheduleRepository(session)
        self.offerings = OfferingRepository(session)
        self.provisioning = ProvisioningRepository(session)
        self.role_grants = RoleGrantRepository(session)
        self.payments = PaymentRepository(session)
        self.preferences = PreferencesRepository(session)
        self.reminders = ReminderRepository(session)
        self.ratings = RatingRepository(session)
        self.session_tasks = SessionTaskRepository(session)
        self.materials = MaterialRepository(session)
        self.calendar_feeds = CalendarFeedRepository(session)
        self.stats = StatsRepository(session)
        self.waitlist = WaitlistRepository(session)
        self.packages = PackageRepository(session)
        self.referrals = ReferralRepository(session)
        if self._immediate:
            try:
                await session.connection()  # BEGIN (IMMEDIATE) now, not at the first query
            except BaseException:
                await session.close()
                raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Closing rolls back whatever was not committed and returns the connection.
        await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()

    def _open_session(self) -> AsyncSession:
        bind = self._session_factory.kw.get("bind")
        if self._immediate and isinstance(bind, AsyncEngine) and bind.dialect.name == "sqlite":
            immediate_bind = bind.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            return self._session_factory(bind=immediate_bind)
        return self._session_factory()
