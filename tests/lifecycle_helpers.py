"""Shared helpers for the session lifecycle tests: a server with a coach and a student, a
confirmed and provisioned booking, and readers for DMs, channels and the lifecycle's rows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import discord
import discord.ext.test as dpytest
from discord.ext.test import backend, factories
from sqlalchemy import select

from bot.client import CoachBot
from bot.lifecycle import bookings_changed, run_due
from bot.provisioning import provision_booking
from scheduling.booking import BookingRequest, book
from storage.models import AvailabilityWindow, Booking, Coach, Reminder, SessionTask
from tests.fixtures_bot import START as MON_09

TUE_10 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
MON_10 = MON_09 + timedelta(hours=1)


@dataclass
class World:
    bot: CoachBot
    guild: discord.Guild
    student: discord.Member
    coach: discord.Member
    outsider: discord.Member
    role: discord.Role


async def make_world(bot: CoachBot) -> World:
    guild = dpytest.get_config().guilds[0]
    student, coach, outsider = dpytest.get_config().members[:3]
    role = await guild.create_role(name="Coaching Access")
    async with bot.services.uow() as uow:
        await uow.guild_settings.update(guild.id, access_role_id=role.id)
        await uow.commit()
    return World(bot, guild, student, coach, outsider, role)


async def seed_offering(world: World, **fields) -> int:
    """A coach (every day 08:00-20:00 UTC) and a published free offering."""
    bot, guild = world.bot, world.guild
    async with bot.services.uow() as uow:
        row = await uow.coaches.get_by_user(guild.id, world.coach.id)
        if row is None:
            row = await uow.coaches.create(guild_id=guild.id, user_id=world.coach.id,
                                           display_name="Coach Carla")
            schedule = await uow.schedules.create(coach_id=row.id, name="default",
                                                  timezone="UTC", is_default=True)
            for day in range(7):
                uow.session.add(AvailabilityWindow(schedule_id=schedule.id, weekday=day,
                                                   start_minute=8 * 60, end_minute=20 * 60))
        else:
            schedule = await uow.schedules.get_by_name(row.id, "default")
        values = {"status": "published", "min_notice_minutes": 60, "duration_minutes": 60,
                  "title": "Mock interview", **fields}
        offering = await uow.offerings.create(guild_id=guild.id, coach_id=row.id,
                                              schedule_id=schedule.id, **values)
        await uow.commit()
        return offering.id


async def session(world: World, *, start=TUE_10, student=None, provision=True,
                  **offering_fields) -> int:
    """A confirmed booking (planned in its transaction), provisioned on Discord, with its
    wake-up scheduled."""
    offering_id = await seed_offering(world, **offering_fields)
    booking = await book(world.bot.services.uow,
                         BookingRequest(offering_id, (student or world.student).id, start),
                         now=world.bot.services.clock())
    if provision:
        await provision_booking(world.bot, booking.id)
    await bookings_changed(world.bot, [booking.id])
    return booking.id


def stored_messages() -> dict[int, list[dict]]:
    return backend._cur_config.messages


async def history(channel) -> list[discord.Message]:
    if channel is None or channel.id not in stored_messages():
        return []
    messages = [m async for m in channel.history(limit=200)]
    return sorted(messages, key=lambda m: m.id)


async def dms(member) -> list[discord.Message]:
    return await history(member.dm_channel)


def is_reminder(message: discord.Message) -> bool:
    return any((e.footer.text or "").startswith("Reminder #") for e in message.embeds)


async def reminder_dms(member) -> list[discord.Message]:
    return [m for m in await dms(member) if is_reminder(m)]


async def rows(bot, model, booking_id) -> list:
    async with bot.services.uow() as uow:
        statement = select(model).where(model.booking_id == booking_id).order_by(model.id)
        return list(await uow.session.scalars(statement))


async def reminders_by_key(bot, booking_id) -> dict[tuple[int, str, int], Reminder]:
    return {(r.recipient_id, r.kind, r.offset_minutes): r
            for r in await rows(bot, Reminder, booking_id)}


async def tasks(bot, booking_id) -> dict[str, SessionTask]:
    return {t.kind: t for t in await rows(bot, SessionTask, booking_id)}


async def booking_row(bot, booking_id) -> Booking:
    async with bot.services.uow() as uow:
        return await uow.bookings.get(booking_id)


async def coach_row(world) -> Coach:
    async with world.bot.services.uow() as uow:
        return await uow.coaches.get_by_user(world.guild.id, world.coach.id)


def text_channel(world, booking) -> discord.TextChannel | None:
    return world.guild.get_channel(booking.text_channel_id)


async def at(world: World, clock, moment: datetime):
    """Move the clock to `moment` and let the bot do what is due."""
    clock.now = moment
    return await run_due(world.bot)


@contextmanager
def discord_ids(monkeypatch, replay: list[int] | None = None) -> Iterator[list[int]]:
    """Record dpytest's generated ids, or replay them: a restarted bot sees the same server
    and members (Discord keeps them across our restarts)."""
    real = factories.make_id
    recorded: list[int] = []
    queue = iter(replay or [])

    def make_id() -> int:
        value = next(queue, None)
        value = real() if value is None else value
        recorded.append(value)
        return value

    monkeypatch.setattr(factories, "make_id", make_id)
    try:
        yield recorded
    finally:
        monkeypatch.setattr(factories, "make_id", real)
