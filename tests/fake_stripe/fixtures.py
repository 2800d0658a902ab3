"""Pytest fixtures for the fake Stripe server (a plugin: list it in `pytest_plugins`).

- `fake_stripe`: a started `FakeStripe` on 127.0.0.1 (random port) whose notion of now is the
  tests' `clock` fixture, so `expires_at` is checked against the same time the bot uses.
- `stripe_client`: a real `stripe.StripeClient` (aiohttp, no retries) talking to it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import stripe

from tests.fake_stripe.server import FAKE_API_KEY, FakeStripe


@pytest.fixture
async def fake_stripe(clock) -> AsyncIterator[FakeStripe]:
    fake = FakeStripe(clock=clock)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def stripe_client(fake_stripe: FakeStripe) -> AsyncIterator[stripe.StripeClient]:
    http_client = stripe.AIOHTTPClient(timeout=10)
    client = stripe.StripeClient(FAKE_API_KEY, base_addresses=fake_stripe.base_addresses,
                                 http_client=http_client, max_network_retries=0)
    try:
        yield client
    finally:
        await http_client.close_async()
