"""Seeding for the booking cogs' tests, straight through the storage layer: coach grants, a
coach profile, weekly hours, published offerings with questions, and the server's access role,
category and log channel.

With the `clock` fixture (Monday 2026-11-23 09:00 UTC), a coach seeded here works Mon-Fri
09:00-17:00 in their timezone (UTC unless told), offerings default to 60 minutes with 60
minutes' notice, so the first free time is Monday 10:00 UTC.

`create_coach`, `create_offering` and `insert_booking` take any unit-of-work factory (the
`uow_factory` fixture runs them on SQLite and PostgreSQL); `seed_*` and `add_booking` are the
same for a running bot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
from discord.ext.test import backend, factories
from sqlalchemy import select

from bot.client import CoachBot
from storage.models import AvailabilityWindow, Booking, Coach, Offering

MON = datetime(2026, 11, 23, tzinfo=UTC)
TUE = MON + timedelta(days=1)


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute)


@dataclass
class Server:
    """The server's booking setup: access role, category and log channel."""

    role: discord.Role
    category: discord.CategoryChannel
    log_channel: discord.TextChannel


async def setup_server(bot: CoachBot, guild: discord.Guild, **settings: object) -> Server:
    role = await guild.create_role(name="Coaching Access")
    category = await guild.create_category("Coaching sessions")
    log_channel = guild.text_channels[1]
    async with bot.services.uow() as uow:
        await uow.guild_settings.update(guild.id, access_role_id=role.id,
                                        category_id=category.id, log_channel_id=log_channel.id,
                                        **settings)
        await uow.commit()
    return Server(role, category, log_channel)


async def create_coach(uow_factory: Callable[..., Any], guild_id: int, user_id: int, *,
                       name: str = "Coach", timezone: str = "UTC",
                       specialties: tuple[str, ...] = (), rating: tuple[int, int] = (0, 0),
                       hours: tuple[int, int] = (9, 17), weekdays: range = range(5),
                       hourly_rate_minor: int | None = None, bio: str = "") -> Coach:
    """A granted coach with a profile and a default schedule (hours in `timezone`)."""
    async with uow_factory() as uow:
        await uow.coach_grants.add(guild_id, "member", user_id)
        coach = await uow.coaches.create(guild_id=guild_id, user_id=user_id, display_name=name,
                                         timezone=timezone)
        await uow.coaches.update_profile(coach, specialties=list(specialties), bio=bio,
                                         hourly_rate_minor=hourly_rate_minor)
        coach.rating_sum, coach.rating_count = rating
        schedule = await uow.schedules.create(coach_id=coach.id, name="default",
                                              timezone=timezone, is_default=True)
        for day in weekdays:
            uow.session.add(AvailabilityWindow(schedule_id=schedule.id, weekday=day,
                                               start_minute=hours[0] * 60,
                                               end_minute=hours[1] * 60))
        await uow.commit()
        return coach


async def create_offering(uow_factory: Callable[..., Any], coach: Coach, *,
                          title: str = "Mock interview",
                          questions: tuple[tuple[str, str, bool], ...] = (),
                          **fields: object) -> Offering:
    """A published offering of `coach` on their default schedule (fields override)."""
    async with uow_factory() as uow:
        schedule = await uow.schedules.get_by_name(coach.id, "default")
        values = {"status": "published", "min_notice_minutes": 60, "duration_minutes": 60,
                  "description": "Practice with feedback.", **fields}
        offering = await uow.offerings.create(guild_id=coach.guild_id, coach_id=coach.id,
                                              schedule_id=schedule.id if schedule else None,
                                              title=title, **values)
        if questions:
            await uow.offerings.replace_questions(offering.id, list(questions))
        await uow.commit()
        return offering


async def insert_booking(uow_factory: Callable[..., Any], offering: Offering, student_id: int,
                         start: datetime, *, status: str = "confirmed",
                         **fields: object) -> Booking:
    """A booking row written directly (for session lists and for busy times)."""
    values = {"expires_at": start if status == "pending_payment" else None, **fields}
    async with uow_factory() as uow:
        booking = await uow.bookings.add(Booking(
            guild_id=offering.guild_id, offering_id=offering.id, coach_id=offering.coach_id,
            student_id=student_id, status=status, start_at=start,
            end_at=start + timedelta(minutes=offering.duration_minutes), **values))
        await uow.commit()
        return booking


async def seed_coach(bot: CoachBot, member: discord.Member, *, name: str | None = None,
                     **profile: Any) -> Coach:
    """`create_coach` for a member of the bot's guild."""
    return await create_coach(bot.services.uow, member.guild.id, member.id,
                              name=name or member.display_name, **profile)


async def seed_offering(bot: CoachBot, coach: Coach, **fields: Any) -> Offering:
    return await create_offering(bot.services.uow, coach, **fields)


async def bookings(bot: CoachBot) -> list[Booking]:
    async with bot.services.uow() as uow:
        return list(await uow.session.scalars(select(Booking).order_by(Booking.id)))


async def add_booking(bot: CoachBot, offering: Offering, student_id: int, start: datetime, *,
                      status: str = "confirmed", **fields: object) -> Booking:
    return await insert_booking(bot.services.uow, offering, student_id, start, status=status,
                                **fields)


# ---------------------------------------------------------------- guild state helpers


def stored_messages() -> dict[int, list[dict]]:
    """dpytest's message store, by channel id (what its fake REST API answers from)."""
    return backend._cur_config.messages


async def history(channel: discord.abc.Messageable | None) -> list[discord.Message]:
    """Messages of a channel or DM, oldest first ([] when none)."""
    if channel is None or channel.id not in stored_messages():  # type: ignore[union-attr]
        return []
    messages = [m async for m in channel.history(limit=100)]
    return sorted(messages, key=lambda m: m.id)


def set_pending(member: discord.Member, pending: bool = True) -> None:
    """Membership screening not done (yet), as a GUILD_MEMBER_UPDATE would say."""
    data = factories.dict_from_member(member)
    data["pending"] = pending
    backend.get_state().parse_guild_member_update(data)


def set_role_position(role: discord.Role, position: int) -> None:
    data = factories.dict_from_role(role)
    data["position"] = position
    backend.get_state().parse_guild_role_update({"guild_id": role.guild.id, "role": data})


def new_member(guild: discord.Guild, name: str) -> discord.Member:
    user = backend.make_user(name, "0001")
    return backend.make_member(user, guild)
