"""Webhook deduplication: each event id is processed once, atomically with its effect."""

from sqlalchemy import func, select

from storage.models import Coach, ProcessedWebhookEvent
from tests.storage.factories import add_coach


async def test_an_event_is_recorded_once(uow_factory):
    async with uow_factory() as uow:
        assert await uow.webhook_events.record("evt_1", "checkout.session.completed") is True
        assert await uow.webhook_events.record("evt_1", "checkout.session.completed") is False
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.webhook_events.record("evt_1", "checkout.session.completed") is False
        assert await uow.webhook_events.record("evt_2", "charge.refunded") is True
        await uow.commit()

    async with uow_factory() as uow:
        events = await uow.session.scalars(
            select(ProcessedWebhookEvent).order_by(ProcessedWebhookEvent.event_id)
        )
        assert [(e.event_id, e.type) for e in events] == [
            ("evt_1", "checkout.session.completed"),
            ("evt_2", "charge.refunded"),
        ]


async def test_a_duplicate_leaves_the_transaction_usable(uow_factory):
    async with uow_factory() as uow:
        await uow.webhook_events.record("evt_1", "checkout.session.completed")
        await uow.commit()

    async with uow_factory() as uow:
        await add_coach(uow, 1)
        assert await uow.webhook_events.record("evt_1", "checkout.session.completed") is False
        # On PostgreSQL a failed INSERT would abort the transaction; this one must not.
        await add_coach(uow, 2, name="Grace")
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Coach)) == 2


async def test_a_rolled_back_effect_leaves_the_event_unprocessed(uow_factory):
    async with uow_factory() as uow:
        assert await uow.webhook_events.record("evt_9", "checkout.session.completed") is True
        await add_coach(uow)
        # the handler fails before commit

    async with uow_factory() as uow:
        assert await uow.webhook_events.record("evt_9", "checkout.session.completed") is True
        await uow.commit()
