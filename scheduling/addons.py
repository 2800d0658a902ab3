"""Add-ons of an offering (`/offering addon add|remove|list`): optional priced extras a student
picks in the `/book` summary of a paid offering ("session recording", "written feedback");
each becomes a line item of the Stripe Checkout Session.

Add-ons that add time (`extra_minutes > 0`) lengthen the booked session itself: the slot is
checked and held for the offering's length plus the extra minutes (1-on-1 offerings only, as a
group session has one length for everyone).

    added = await add_addon(uow, offering, name="Session recording", price="9")
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from scheduling.errors import Conflict, InvalidInput, NotFound
from scheduling.money import Money, parse_price

MAX_ADDONS: Final = 10  # they are picked in one select menu of the /book summary
NAME_MAX: Final = 100  # a select option's label holds 100 characters

FREE_OFFERING: Final = ("Add-ons are sold with paid sessions, and **{title}** is free. Give it "
                        "a price first with `/offering edit`.")
NO_EXTRA_TIME: Final = ("Add-ons that add time are for 1-on-1 sessions: **{title}** is a "
                        "group session with one length for everyone. Add it with "
                        "`extra_minutes: 0`, or make a longer offering instead.")
EMPTY_NAME: Final = "Give the add-on a name, like `Session recording`."
LONG_NAME: Final = "Keep the add-on's name to {limit} characters (it is {length})."
FREE_ADDON: Final = "An add-on needs a price above zero; for something free, say so in the " \
                    "offering's description."
DUPLICATE: Final = "**{title}** already has an add-on called `{name}`."
TOO_MANY: Final = "**{title}** has {limit} add-ons already, the most a booking can show. " \
                  "Remove one with `/offering addon remove` first."
UNKNOWN: Final = ("**{title}** has no add-on called `{name}`. See its add-ons with "
                  "`/offering addon list`.")


class OfferingRecord(Protocol):
    id: int
    title: str
    price_minor: int
    currency: str
    capacity: int


class AddonRecord(Protocol):
    id: int
    offering_id: int
    name: str
    price_minor: int
    extra_minutes: int


class AddonStore(Protocol):
    async def addons(self, offering_id: int) -> Sequence[AddonRecord]: ...

    async def add_addon(self, offering_id: int, *, name: str, price_minor: int,
                        extra_minutes: int = 0) -> AddonRecord: ...

    async def delete_addon(self, addon: AddonRecord) -> None: ...


class AddonsUnitOfWork(Protocol):
    offerings: AddonStore


@dataclass(frozen=True)
class AddonLine:
    addon_id: int
    name: str
    price: Money

    @property
    def label(self) -> str:
        return f"{self.name} (+{self.price})"


def line_of(addon: AddonRecord, currency: str) -> AddonLine:
    return AddonLine(addon.id, addon.name, Money(addon.price_minor, currency))


async def list_addons(uow: AddonsUnitOfWork, offering: OfferingRecord) -> list[AddonLine]:
    return [line_of(a, offering.currency) for a in await uow.offerings.addons(offering.id)]


async def add_addon(uow: AddonsUnitOfWork, offering: OfferingRecord, *, name: str, price: str,
                    extra_minutes: int = 0) -> AddonLine:
    """Validate and store a new add-on (the caller commits). The name is kept as typed,
    without its surrounding spaces."""
    if offering.price_minor == 0:
        raise InvalidInput(FREE_OFFERING.format(title=offering.title))
    if extra_minutes > 0 and offering.capacity > 1:
        raise InvalidInput(NO_EXTRA_TIME.format(title=offering.title))
    if extra_minutes < 0:
        raise InvalidInput("`extra_minutes` cannot be negative.")
    shown = name.strip()
    if not shown:
        raise InvalidInput(EMPTY_NAME)
    if len(shown) > NAME_MAX:
        raise InvalidInput(LONG_NAME.format(limit=NAME_MAX, length=len(shown)))
    amount = parse_price(price, offering.currency)
    if amount.minor <= 0:
        raise InvalidInput(FREE_ADDON)
    existing = await uow.offerings.addons(offering.id)
    if any(a.name.casefold() == shown.casefold() for a in existing):
        raise Conflict(DUPLICATE.format(title=offering.title, name=shown))
    if len(existing) >= MAX_ADDONS:
        raise Conflict(TOO_MANY.format(title=offering.title, limit=MAX_ADDONS))
    added = await uow.offerings.add_addon(offering.id, name=shown, price_minor=amount.minor,
                                          extra_minutes=extra_minutes)
    return line_of(added, offering.currency)


async def remove_addon(uow: AddonsUnitOfWork, offering: OfferingRecord, name: str) -> AddonLine:
    """Remove the add-on called `name` (case-insensitive). Bookings already paid keep their
    Checkout line items; new bookings no longer offer it."""
    typed = name.strip()
    for addon in await uow.offerings.addons(offering.id):
        if addon.name.casefold() == typed.casefold():
            line = line_of(addon, offering.currency)
            await uow.offerings.delete_addon(addon)
            return line
    raise NotFound(UNKNOWN.format(title=offering.title, name=typed[:NAME_MAX]))
