"""Fixtures for the payment tests: the fake Stripe server and a gateway on it.

The fake's fixtures are imported here until `tests.fake_stripe.fixtures` is listed in
`tests/conftest.py`'s `pytest_plugins` (then these imports are harmless duplicates)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable

import pytest

from payments.stripe_gateway import StripeGateway
from storage.engine import create_engine
from storage.migrate import migrate_engine
from storage.uow import UnitOfWork, make_session_factory


@pytest.fixture
def gateway(stripe_client) -> StripeGateway:
    return StripeGateway(stripe_client)


@pytest.fixture
async def sqlite_uow_factory(sqlite_url) -> AsyncIterator[Callable[..., UnitOfWork]]:
    """`uow_factory` on SQLite only, for tests about what Stripe receives (the storage
    behaviour on both backends is covered by the event, hold and repository tests)."""
    engine = create_engine(sqlite_url)
    await migrate_engine(engine)
    try:
        yield functools.partial(UnitOfWork, make_session_factory(engine))
    finally:
        await engine.dispose()
