"""`deliver`: an interrupted attempt that cannot check what it already sent does not send again
(at most once), and a DM error other than closed DMs is retried later."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import discord

from bot.reminder_dm import NOT_VERIFIED, Letter, deliver


def http_error(status: int) -> discord.HTTPException:
    response = SimpleNamespace(status=status, reason="Server Error")
    return discord.HTTPException(response, {"code": 0, "message": "boom"})


@dataclass
class FakeChannel:
    """A DM channel whose history Discord will not return."""

    async def _history(self):
        raise http_error(500)
        yield  # pragma: no cover

    def history(self, *, limit: int):
        return self._history()


@dataclass
class FakeUser:
    id: int = 5
    dm_channel: FakeChannel = field(default_factory=FakeChannel)
    sent: list[str] = field(default_factory=list)
    error: discord.HTTPException | None = None

    async def create_dm(self) -> FakeChannel:
        return self.dm_channel

    async def send(self, content: str, **_: object) -> None:
        if self.error is not None:
            raise self.error
        self.sent.append(content)


@dataclass
class FakeBot:
    user_obj: FakeUser
    user: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(id=1))

    def get_user(self, user_id: int) -> FakeUser:
        return self.user_obj


LETTER = Letter("Reminder: soon", lambda message: True)


async def test_an_interrupted_send_that_cannot_look_is_not_repeated():
    user = FakeUser()
    outcome = await deliver(FakeBot(user), user.id, LETTER, interrupted=True, fallback=None)
    assert (outcome.status, outcome.detail) == ("failed", NOT_VERIFIED)
    assert user.sent == []


async def test_a_discord_error_is_retried_later():
    user = FakeUser(error=http_error(503))
    outcome = await deliver(FakeBot(user), user.id, LETTER, interrupted=False, fallback=None)
    assert outcome.status == "retry" and "503" in outcome.detail


async def test_closed_dms_without_a_channel_fail():
    user = FakeUser(error=discord.Forbidden(SimpleNamespace(status=403, reason="Forbidden"),
                                            {"code": 50007, "message": "Cannot send"}))
    outcome = await deliver(FakeBot(user), user.id, LETTER, interrupted=False, fallback=None)
    assert (outcome.status, outcome.detail) == (
        "failed", "DMs closed and no session channel to post in")
