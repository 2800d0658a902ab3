"""Fake Discord side of interaction webhooks: answers discord.py and records every response.

discord.py sends interaction callbacks, follow-ups and `@original` edits through
`discord.webhook.async_.AsyncWebhookAdapter.request`, never through `client.http`.
`WebhookRecorder.install()` replaces that one method; `uninstall()` restores it.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import discord
from discord import app_commands
from discord.ext.test import backend
from discord.webhook.async_ import AsyncWebhookAdapter

from tests.harness import limits, payloads
from tests.harness.errors import http_error
from tests.harness.messages import (
    COMPONENTS_V2,
    EPHEMERAL,
    LOADING,
    SUPPRESS_EMBEDS,
    edited,
    now,
    read_files,
    uploaded,
)

JsonDict = dict[str, Any]



def walk_components(components: Sequence[JsonDict]) -> Iterator[JsonDict]:
    """Every component, depth first: action rows, containers, sections, labels and leaves."""
    for c in components:
        yield c
        yield from walk_components(c.get("components", []))
        for key in ("component", "accessory"):
            if isinstance(c.get(key), dict):
                yield from walk_components([c[key]])


@dataclass(frozen=True)
class SentFile:
    filename: str
    data: bytes


@dataclass(frozen=True)
class ModalSpec:
    custom_id: str
    title: str
    fields: dict[str, JsonDict]  # custom_id -> text input / select component
    components: list[JsonDict]  # as sent

    @classmethod
    def from_dict(cls, data: JsonDict) -> ModalSpec:
        leaves = {c["custom_id"]: c for c in walk_components(data.get("components", []))
                  if c.get("type") not in (1, 18) and "custom_id" in c}
        return cls(data["custom_id"], data["title"], leaves, data.get("components", []))


@dataclass
class Response:
    """One thing the bot did in answer to an interaction, as Discord received it.

    `kind` is the callback type (4 message, 5 deferred, 6 deferred update, 7 update message,
    8 autocomplete, 9 modal) or 'followup', 'edit', 'delete'. For message kinds, `content`,
    `embeds`, `components` and `ephemeral` describe the message *after* the request; `payload`
    is the raw JSON body the bot sent.
    """

    kind: int | str
    interaction_id: int
    message_id: int | None = None
    channel_id: int | None = None
    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)
    ephemeral: bool = False
    flags: int = 0
    components: list[JsonDict] = field(default_factory=list)
    files: list[SentFile] = field(default_factory=list)
    choices: list[app_commands.Choice[Any]] = field(default_factory=list)
    modal: ModalSpec | None = None
    allowed_mentions: JsonDict | None = None
    payload: JsonDict = field(default_factory=dict)

    @property
    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in walk_components(self.components) if "custom_id" in c]

    def component(self, custom_id: str) -> JsonDict:
        for c in walk_components(self.components):
            if c.get("custom_id") == custom_id:
                return c
        raise KeyError(f"no component {custom_id!r}; have {self.custom_ids}")


class Responses(list[Response]):
    """The responses one driver call produced, oldest first, with shortcuts for assertions."""

    @property
    def last(self) -> Response:
        assert self, "the bot sent no interaction response"
        return self[-1]

    @property
    def first(self) -> Response:
        assert self, "the bot sent no interaction response"
        return self[0]

    def of_kind(self, *kinds: int | str) -> Responses:
        return Responses(r for r in self if r.kind in kinds)

    @property
    def messages(self) -> Responses:
        """Responses that created or changed a message with content (not 5/6/8/9/delete)."""
        return self.of_kind(4, 7, "followup", "edit")

    @property
    def text(self) -> str:
        return "\n".join(r.content for r in self.messages if r.content)

    @property
    def ephemeral_text(self) -> str:
        return "\n".join(r.content for r in self.messages if r.ephemeral and r.content)

    @property
    def public_text(self) -> str:
        return "\n".join(r.content for r in self.messages if not r.ephemeral and r.content)

    @property
    def embeds(self) -> list[discord.Embed]:
        return [e for r in self.messages for e in r.embeds]

    @property
    def modal(self) -> ModalSpec | None:
        return next((r.modal for r in self if r.modal is not None), None)

    @property
    def choices(self) -> list[app_commands.Choice[Any]]:
        return [c for r in self.of_kind(8) for c in r.choices]


@dataclass
class InteractionRecord:
    """What the fake Discord knows about one interaction the driver sent."""

    id: int
    token: str
    type: int
    channel_id: int
    guild_id: int | None
    user: JsonDict
    source_message_id: int | None = None  # component interactions: the clicked message
    acknowledged: bool = False
    original_message_id: int | None = None
    loading: bool = False  # deferred with "thinking": the first follow-up replaces that message
    created: float = field(default_factory=time.monotonic)


class WebhookRecorder:
    def __init__(self, state: Any, app_id: int, response_deadline: float | None = 3.0) -> None:
        self.state = state
        self.app_id = app_id
        # Discord drops an interaction not acknowledged within 3 seconds (404, code 10062).
        self.response_deadline = response_deadline
        self.responses = Responses()
        self.messages: dict[int, JsonDict] = {}  # every message created by an interaction
        self.owners: dict[int, int] = {}  # message id -> id of the user whose interaction made it
        self._interactions: dict[str, InteractionRecord] = {}
        self._by_id: dict[int, InteractionRecord] = {}
        self._original_request: Any = None

    # ------------------------------------------------------------ lifecycle

    def install(self) -> None:
        assert self._original_request is None, "recorder already installed"
        self._original_request = AsyncWebhookAdapter.request
        recorder = self

        async def request(adapter: AsyncWebhookAdapter, route: discord.http.Route,
                          session: Any = None, **kwargs: Any) -> Any:
            return await recorder.handle(route, **kwargs)

        AsyncWebhookAdapter.request = request  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._original_request is not None:
            AsyncWebhookAdapter.request = self._original_request  # type: ignore[method-assign]
            self._original_request = None

    def register(self, payload: JsonDict) -> InteractionRecord:
        message = payload.get("message")
        record = InteractionRecord(
            id=int(payload["id"]),
            token=payload["token"],
            type=payload["type"],
            channel_id=int(payload["channel_id"]),
            guild_id=int(payload["guild_id"]) if payload.get("guild_id") else None,
            user=(payload.get("member") or {}).get("user") or payload.get("user") or {},
            source_message_id=int(message["id"]) if message else None,
        )
        self._interactions[record.token] = self._by_id[record.id] = record
        return record

    def record(self, interaction_id: int) -> InteractionRecord:
        return self._by_id[interaction_id]

    # ------------------------------------------------------------ message store

    def find_message(self, message_id: int) -> JsonDict | None:
        """Current JSON of a message: dpytest's store first (it sees REST edits), then ours."""
        config = backend._cur_config
        for stored in (config.messages.values() if config else ()):
            for data in stored:
                if int(data["id"]) == message_id:
                    return data
        return self.messages.get(message_id)

    def _publish(self, msg: JsonDict) -> None:
        """Non-ephemeral messages reach the gateway and dpytest's store, as on Discord."""
        config = backend._cur_config
        if config is not None:
            config.messages.setdefault(msg["channel_id"], []).append(msg)
        self.state.parse_message_create(copy.deepcopy(msg))

    def _replace(self, new: JsonDict) -> None:
        mid = int(new["id"])
        if mid in self.messages:
            self.messages[mid] = new
        config = backend._cur_config
        for stored in (config.messages.values() if config else ()):
            for i, data in enumerate(stored):
                if int(data["id"]) == mid:
                    stored[i] = new
                    self.state.parse_message_update(copy.deepcopy(new))
                    return

    def _create_message(self, rec: InteractionRecord, body: JsonDict,
                        files: list[SentFile], *, flags: int) -> JsonDict:
        mid = payloads.snowflake()
        msg: JsonDict = {
            "id": mid,
            "channel_id": rec.channel_id,
            "author": payloads.user(self.state.user),
            "content": body.get("content") or "",
            "timestamp": now(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts")),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": uploaded([(f.filename, f.data) for f in files], body),
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "type": 20 if rec.type == 2 else 0,
            "flags": flags,
            "webhook_id": self.app_id,
            "application_id": self.app_id,
        }
        if rec.guild_id:
            msg["guild_id"] = rec.guild_id
        self.messages[mid] = msg
        if rec.user:
            self.owners[mid] = int(rec.user["id"])
        if not flags & EPHEMERAL:
            self._publish(msg)
        return msg

    def _edit_message(self, message_id: int, body: JsonDict, files: list[SentFile]) -> JsonDict:
        current = self.find_message(message_id)
        if current is None:
            raise http_error(404, 10008, "Unknown Message")
        new = edited(current, body, [(f.filename, f.data) for f in files])
        self._replace(new)
        return new

    # ------------------------------------------------------------ requests

    def _interaction(self, token: str | None) -> InteractionRecord:
        try:
            return self._interactions[str(token)]
        except KeyError:
            raise http_error(404, 10015, "Unknown Webhook") from None

    def _message_ref(self, rec: InteractionRecord, route: discord.http.Route) -> int:
        ref = route.url.rsplit("/", 1)[1]
        if ref != "@original":
            return int(ref)
        if not rec.acknowledged:
            raise http_error(404, 10015, "Unknown Webhook")
        if rec.original_message_id is None:
            raise http_error(404, 10008, "Unknown Message")
        return rec.original_message_id

    def _record(self, kind: int | str, rec: InteractionRecord, body: JsonDict,
                msg: JsonDict | None = None, files: list[SentFile] | None = None,
                **extra: Any) -> None:
        flags = int((msg or {}).get("flags") or 0)
        self.responses.append(Response(
            kind=kind,
            interaction_id=rec.id,
            message_id=int(msg["id"]) if msg else None,
            channel_id=int(msg["channel_id"]) if msg else rec.channel_id,
            content=msg.get("content") if msg else None,
            embeds=[discord.Embed.from_dict(e) for e in (msg or {}).get("embeds", [])],
            ephemeral=bool(flags & EPHEMERAL),
            flags=flags,
            components=copy.deepcopy((msg or {}).get("components", [])),
            files=files or [],
            allowed_mentions=body.get("allowed_mentions"),
            payload=body,
            **extra,
        ))

    async def handle(self, route: discord.http.Route, *, payload: JsonDict | None = None,
                     multipart: list[JsonDict] | None = None,
                     files: Sequence[discord.File] | None = None, **_: Any) -> Any:
        body = payloads.request_body(payload, multipart)
        sent = [SentFile(name, data) for name, data in read_files(files)]
        rec = self._interaction(route.webhook_token)
        if route.path.endswith("/callback"):
            return self._callback(rec, body, sent)
        if route.method == "POST" and route.path == "/webhooks/{webhook_id}/{webhook_token}":
            return self._followup(rec, body, sent)
        if "/messages/" in route.url:
            message_id = self._message_ref(rec, route)
            if route.method == "GET":
                found = self.find_message(message_id)
                if found is None:
                    raise http_error(404, 10008, "Unknown Message")
                return copy.deepcopy(found)
            if route.method == "PATCH":
                limits.check_message(body, edit=True)
                msg = self._edit_message(message_id, body, sent)
                if message_id == rec.original_message_id:
                    rec.loading = False
                self._record("edit", rec, body, msg, sent)
                return copy.deepcopy(msg)
            if route.method == "DELETE":
                gone = self.find_message(message_id)
                if gone is None:
                    raise http_error(404, 10008, "Unknown Message")
                self._delete(message_id)
                self._record("delete", rec, body, {"id": message_id,
                                                   "channel_id": gone["channel_id"]})
                return None
        raise NotImplementedError(f"harness: no fake for webhook {route.method} {route.url}")

    def _delete(self, message_id: int) -> None:
        msg = self.messages.pop(message_id, None) or self.find_message(message_id) or {}
        config = backend._cur_config
        for stored in (config.messages.values() if config else ()):
            for i, data in enumerate(stored):
                if int(data["id"]) == message_id:
                    del stored[i]
                    event = {"id": message_id, "channel_id": data["channel_id"]}
                    if msg.get("guild_id"):
                        event["guild_id"] = msg["guild_id"]
                    self.state.parse_message_delete(event)
                    return

    def _callback(self, rec: InteractionRecord, body: JsonDict, sent: list[SentFile]) -> JsonDict:
        if rec.acknowledged:
            raise http_error(400, 40060, "Interaction has already been acknowledged.")
        late = time.monotonic() - rec.created
        if self.response_deadline is not None and late > self.response_deadline:
            raise http_error(404, 10062, "Unknown interaction")
        kind = int(body["type"])
        data = body.get("data") or {}
        msg: JsonDict | None = None
        extra: dict[str, Any] = {}
        if kind == 4:
            limits.check_message(data, files=len(sent))
            msg = self._create_message(rec, data, sent, flags=int(data.get("flags") or 0))
            rec.original_message_id = int(msg["id"])
        elif kind == 5:
            flags = (int(data.get("flags") or 0) & EPHEMERAL) | LOADING
            msg = self._create_message(rec, {}, [], flags=flags)
            rec.original_message_id, rec.loading = int(msg["id"]), True
        elif kind in (6, 7):
            if rec.source_message_id is None:
                raise http_error(400, 50035, "Invalid Form Body: this interaction has no message")
            rec.original_message_id = rec.source_message_id
            if kind == 7:
                limits.check_message(data, files=len(sent), edit=True)
                msg = self._edit_message(rec.source_message_id, data, sent)
            else:
                msg = self.find_message(rec.source_message_id)
        elif kind == 8:
            limits.check_choices(data.get("choices", []))
            extra["choices"] = [app_commands.Choice(name=c["name"], value=c["value"])
                                for c in data.get("choices", [])]
        elif kind == 9:
            limits.check_modal(data)
            extra["modal"] = ModalSpec.from_dict(data)
        else:
            raise NotImplementedError(f"harness: interaction callback type {kind}")
        rec.acknowledged = True
        self._record(kind, rec, data, msg, sent, **extra)
        interaction: JsonDict = {"id": str(rec.id), "type": rec.type,
                                 "response_message_loading": kind == 5,
                                 "response_message_ephemeral": bool(
                                     msg and int(msg.get("flags") or 0) & EPHEMERAL)}
        resource: JsonDict = {"type": kind}
        if msg is not None:
            interaction["response_message_id"] = str(msg["id"])
            resource["message"] = copy.deepcopy(msg)
        return {"interaction": interaction, "resource": resource}

    def _followup(self, rec: InteractionRecord, body: JsonDict, sent: list[SentFile]) -> JsonDict:
        if not rec.acknowledged:
            raise http_error(404, 10015, "Unknown Webhook")
        limits.check_message(body, files=len(sent))
        if rec.loading and rec.original_message_id is not None:
            # Discord turns the "thinking..." message into the first follow-up; it keeps the
            # deferral's ephemeral flag.
            msg = self._edit_message(rec.original_message_id, body, sent)
            msg["edited_timestamp"] = None
            rec.loading = False
        else:
            flags = int(body.get("flags") or 0) & (EPHEMERAL | SUPPRESS_EMBEDS | COMPONENTS_V2)
            msg = self._create_message(rec, body, sent, flags=flags)
        self._record("followup", rec, body, msg, sent)
        return copy.deepcopy(msg)
