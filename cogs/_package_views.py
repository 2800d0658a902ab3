"""What `/packages` and `/offering package ...` show: the credits embed, the Pay link and the
coach's confirmations (the services are `scheduling/packages.py` and
`scheduling/package_payments.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import discord

from scheduling.credits import plural
from scheduling.package_payments import PurchaseStarted
from scheduling.packages import OfferingCredits, PackageLine
from scheduling.provisioning import timestamp

COLOUR: Final = discord.Colour.blurple()
NO_PACKAGES: Final = ("You have no session packages in this server yet. See what is on sale "
                      "with `/packages buy` (the list appears while you type).")
FIELD_LIMIT: Final = 25


def credits_embed(rows: Sequence[OfferingCredits]) -> discord.Embed:
    """One field per offering: usable credits first, expired purchases listed as expired."""
    total = sum(row.remaining for row in rows)
    embed = discord.Embed(title="Your session packages", colour=COLOUR,
                          description=f"{plural(total)} ready to use with `/book`.")
    for row in rows[:FIELD_LIMIT]:
        lines = "\n".join(f"- {p.line}" for p in row.purchases)
        embed.add_field(name=f"{row.title} · {plural(row.remaining)} left"[:256],
                        value=lines[:1024] or "-", inline=False)
    if len(rows) > FIELD_LIMIT:
        embed.set_footer(text=f"and {len(rows) - FIELD_LIMIT} more offerings")
    return embed


def pay_message(started: PurchaseStarted) -> str:
    return (f"**{started.sessions} × {started.title}** with {started.coach_name} for "
            f"{started.amount}: press the button to pay. The credits are usable for "
            f"{plural(started.valid_days, 'day')} from the payment; I send you a DM when they "
            f"are ready. The payment page closes {timestamp(started.expires_at, 'R')}.")


def pay_view(started: PurchaseStarted) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label=f"Pay {started.amount}", url=started.checkout_url,
                                    style=discord.ButtonStyle.link))
    return view


def added_message(line: PackageLine) -> str:
    return (f"Added a package to **{line.title}**: {line.short}. Students buy it with "
            "`/packages buy`.")


def removed_message(line: PackageLine) -> str:
    return (f"Stopped selling {line.sessions} × **{line.title}** ({line.price}). Students who "
            "bought it keep their credits until they expire.")


def packages_suffix(lines: Sequence[PackageLine]) -> str:
    """The packages of an offering, for its `/offering list` line."""
    if not lines:
        return ""
    return "\nPackages: " + "; ".join(f"{line.sessions} for {line.price} "
                                      f"({line.valid_days} d)" for line in lines)
