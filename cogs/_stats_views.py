"""The `/coach stats` reply: an embed of the figures and the chart attached as a PNG."""

from __future__ import annotations

from typing import Final

import discord

from scheduling.stats import Stats

COLOUR: Final = discord.Colour.teal()
CHART_NAME: Final = "sessions-per-week.png"


def stats_embed(stats: Stats) -> discord.Embed:
    start, end = int(stats.start.timestamp()), int(stats.end.timestamp())
    embed = discord.Embed(title=f"Stats of {stats.coach_name}: {stats.period_label}",
                          colour=COLOUR, description=f"<t:{start}:D> to <t:{end}:D>")
    embed.add_field(name="Completed", value=str(stats.completed))
    embed.add_field(name="Cancelled", value=str(stats.cancelled))
    embed.add_field(name="No-shows",
                    value=f"{stats.no_show_student} by students, {stats.no_show_coach} by "
                          "the coach")
    embed.add_field(name="Revenue", value=stats.money_text(stats.revenue))
    embed.add_field(name="Refunds", value=stats.money_text(stats.refunds))
    rated = (f"{stats.average_rating} ★ ({stats.rating_count} rating"
             f"{'' if stats.rating_count == 1 else 's'})" if stats.rating_count else "no ratings")
    embed.add_field(name="Average rating", value=rated)
    embed.add_field(name="Utilisation", value=stats.utilisation_text(), inline=False)
    days = ", ".join(f"{day} ({n})" for day, n in stats.busiest_weekdays) or "—"
    hours = ", ".join(f"{h:02d}:00 ({n})" for h, n in stats.busiest_hours) or "—"
    embed.add_field(name="Busiest weekdays", value=days, inline=False)
    embed.add_field(name="Busiest hours (coach's timezone)", value=hours, inline=False)
    embed.set_image(url=f"attachment://{CHART_NAME}")
    return embed
