"""The session card's "Add to Google Calendar" link (scheduling side and the embed)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from bot.session_card import card_embed
from scheduling import provisioning as p
from scheduling.provisioning import SessionLocation
from tests.scheduling.test_provisioning_plan import START, Booking, Coach, Offering


def test_the_card_carries_a_google_calendar_link():
    booking = Booking(end_at=START + timedelta(minutes=90))
    card = p.session_card(booking, Offering(), Coach(),
                          SessionLocation(join_url="https://meet.jit.si/coachbot-x"))
    query = parse_qs(urlsplit(card.google_calendar_url).query)
    assert query["action"] == ["TEMPLATE"]
    assert query["text"] == ["Mock interview with Carla"]
    assert query["dates"] == ["20261124T100000Z/20261124T113000Z"]
    assert query["location"] == ["https://meet.jit.si/coachbot-x"]
    assert "Carla" in query["details"][0]
    embed = card_embed(card)
    assert embed.description == f"[Add to Google Calendar]({card.google_calendar_url})"


def test_without_a_link_the_location_is_the_session_channel():
    card = p.session_card(Booking(), Offering(), Coach(), SessionLocation(text_channel_id=50))
    query = parse_qs(urlsplit(card.google_calendar_url).query)
    assert query["location"] == ["https://discord.com/channels/1/50"]
