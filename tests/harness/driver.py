"""Drive slash commands, autocomplete, buttons, selects and modals through discord.py's pipeline.

The driver builds INTERACTION_CREATE payloads (`payloads.py`), feeds them to
`bot._connection.parse_interaction_create` exactly as the gateway would, waits for the tasks
discord.py starts, and returns what the bot answered (`recorder.Responses`). It refuses input a
Discord client could not send (unknown options, missing required ones, a disabled button, a
command hidden from this user) and fails on errors discord.py logged and swallowed.

Usage::

    driver = make_driver(bot)                       # fixture; installs and cleans up
    r = await driver.slash(member, "coaching about")
    assert r.last.ephemeral and "version" in r.ephemeral_text
    r = await driver.click(member, r.last, "confirm")
    r = await driver.select(member, r.last, "slot", ["2"])
    r = await driver.submit_modal(member, r, {"notes": "hello"})

Only for tests: this relies on discord.py 2.7 internals; keep it in this package.
"""

from __future__ import annotations

import asyncio
import copy
import enum
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

import discord
from discord import app_commands
from discord.enums import AppCommandOptionType as Opt
from discord.ext import commands

from tests.harness import payloads
from tests.harness.errors import (
    CommandUnavailableError,
    ComponentNotFoundError,
    InteractionTimeoutError,
    InvalidInteractionInput,
    NoResponseError,
    UnhandledInteractionError,
)
from tests.harness.logcheck import ErrorLogCapture
from tests.harness.messages import EPHEMERAL, store_attachment
from tests.harness.recorder import (
    InteractionRecord,
    Response,
    Responses,
    WebhookRecorder,
    walk_components,
)

JsonDict = dict[str, Any]
User = discord.Member | discord.User
Target = Response | Responses | discord.Message | int
Channel = discord.abc.GuildChannel | discord.DMChannel

SELECTS = {3, 5, 6, 7, 8}  # string, user, role, mentionable, channel selects
# Long-lived tasks discord.py starts while handling an interaction; waiting for them would hang.
IGNORED_TASKS = ("discord-ui-view-timeout-", "__timeout_task_impl", ".inner_call")


class InteractionDriver:
    """Feeds interactions to any `commands.Bot` configured with dpytest; see module docstring."""

    def __init__(self, bot: commands.Bot, *, timeout: float = 5.0,
                 require_response: bool = True, response_deadline: float | None = 3.0) -> None:
        """`timeout`: how long one call may wait for the tasks it started; `require_response`:
        fail when the bot never acknowledges an interaction; `response_deadline`: seconds
        until Discord refuses the first response (None: no limit)."""
        self.bot = bot
        self.timeout = timeout
        self.require_response = require_response
        self.response_deadline = response_deadline
        self.log = ErrorLogCapture()
        self._ignored = list(IGNORED_TASKS)
        self._recorder: WebhookRecorder | None = None
        self._command_ids: dict[str, int] = {}

    # ------------------------------------------------------------ lifecycle

    def install(self) -> InteractionDriver:
        state = self.bot._connection
        # dpytest.configure replaced the state after Bot.__init__ attached the tree to the old one.
        state._command_tree = self.bot.tree
        self.bot.tree._state = state
        self.bot.tree._http = self.bot.http
        if state.application_id is None:
            state.application_id = state.user.id  # for bots, application id == bot user id
        self._recorder = WebhookRecorder(state, state.application_id, self.response_deadline)
        self._recorder.install()
        self.log.install()
        return self

    def close(self) -> None:
        """Restore discord.py; fail if errors were logged after the last driver call."""
        if self._recorder is not None:
            self._recorder.uninstall()
        self.log.uninstall()
        self._raise_logged_errors()

    @property
    def recorder(self) -> WebhookRecorder:
        assert self._recorder is not None, "call driver.install() first"
        return self._recorder

    @property
    def responses(self) -> Responses:
        """Every response recorded since install, oldest first."""
        return self.recorder.responses

    def expect_error_log(self, match: str | None = None) -> AbstractContextManager[list[Any]]:
        """Declare that an ERROR log (regex `match`) is expected inside the block."""
        return self.log.expect(match)

    def ignore_tasks(self, *names: str) -> None:
        """Do not wait for tasks whose name or coroutine name contains one of `names`."""
        self._ignored.extend(names)

    def message_json(self, target: Target) -> JsonDict:
        """The current JSON of a message (after edits) as Discord would send it."""
        if isinstance(target, Responses):
            target = target.last
        if isinstance(target, Response):
            if target.message_id is None:
                raise ComponentNotFoundError(f"response kind {target.kind!r} has no message")
            target = target.message_id
        message_id = target if isinstance(target, int) else target.id
        found = self.recorder.find_message(message_id)
        if found is not None:
            return copy.deepcopy(found)
        if isinstance(target, discord.Message):
            return payloads.message(target)
        raise ComponentNotFoundError(f"unknown message {message_id}")

    # ------------------------------------------------------------ application commands

    async def slash(self, user: User, command: str, /, *, guild: discord.Guild | None = None,
                    channel: Channel | None = None, dm: bool = False,
                    options: Mapping[str, Any] | None = None, locale: str = "en-US",
                    require_response: bool | None = None, **kw_options: Any) -> Responses:
        """Run `/command [sub [subsub]]` as `user`. Options by Python or display name; use
        `options={...}` for names that clash with this method's keywords."""
        invoker, where = await self._context(user, guild, channel, dm)
        data = self._command_data(command, invoker, where, {**(options or {}), **kw_options})
        payload = payloads.interaction(type=2, app_id=self.recorder.app_id, invoker=invoker,
                                       where=where, data=data, locale=locale)
        return await self._feed(payload, require_response)

    async def autocomplete(self, user: User, command: str, /, *, focused: str, value: Any = "",
                           guild: discord.Guild | None = None, channel: Channel | None = None,
                           dm: bool = False, options: Mapping[str, Any] | None = None,
                           **kw_options: Any) -> list[app_commands.Choice[Any]]:
        """The choices the bot offers while `user` types `value` into option `focused`."""
        invoker, where = await self._context(user, guild, channel, dm)
        given = {**(options or {}), **kw_options, focused: value}
        data = self._command_data(command, invoker, where, given, focused=focused)
        payload = payloads.interaction(type=4, app_id=self.recorder.app_id, invoker=invoker,
                                       where=where, data=data)
        return (await self._feed(payload, None)).choices

    def _command_data(self, command: str, invoker: User, where: Channel,
                      given: Mapping[str, Any], focused: str | None = None) -> JsonDict:
        cmd, root, guild_command = self._resolve(command, where)
        self._check_available(root, invoker, where)
        resolved: JsonDict = {}
        opts = self._options(cmd, given, invoker, where, resolved, focused)
        node: app_commands.Command[Any, ..., Any] | app_commands.Group = cmd
        while node.parent is not None:
            opts = [{"type": 1 if node is cmd else 2, "name": node.name, "options": opts}]
            node = node.parent
        data: JsonDict = {
            "id": str(self._command_ids.setdefault(root.name, payloads.snowflake())),
            "name": root.name, "type": 1, "options": opts,
        }
        if resolved:
            data["resolved"] = resolved
        if guild_command:
            data["guild_id"] = str(where.guild.id)  # type: ignore[union-attr]
        return data

    def _resolve(self, command: str, where: Channel
                 ) -> tuple[app_commands.Command[Any, ..., Any], Any, bool]:
        tree = self.bot.tree
        parts = command.strip().lstrip("/").split()
        root = None
        if isinstance(where, discord.abc.GuildChannel):
            root = tree.get_command(parts[0], guild=discord.Object(where.guild.id))
        guild_command = root is not None
        root = root or tree.get_command(parts[0])
        if root is None:
            known = sorted(c.name for c in tree.get_commands())
            raise CommandUnavailableError(f"no slash command /{parts[0]}; registered: {known}")
        node: Any = root
        for part in parts[1:]:
            child = node.get_command(part) if isinstance(node, app_commands.Group) else None
            if child is None:
                raise CommandUnavailableError(f"/{node.qualified_name} has no subcommand {part!r}")
            node = child
        if isinstance(node, app_commands.Group):
            subs = [c.name for c in node.commands]
            raise CommandUnavailableError(f"/{node.qualified_name} is a group; pick one of {subs}")
        return node, root, guild_command

    def _check_available(self, root: Any, invoker: User, where: Channel) -> None:
        """Discord does not offer a command where its contexts or default permissions forbid."""
        spec = root.to_dict(self.bot.tree)
        in_dm = isinstance(where, discord.DMChannel)
        contexts = spec.get("contexts")
        if (contexts is not None and (1 if in_dm else 0) not in contexts) or (
                in_dm and spec.get("dm_permission") is False):
            place = "in DMs" if in_dm else "in servers"
            raise CommandUnavailableError(f"/{root.name} is not available {place}")
        if not in_dm and root.default_permissions is not None:
            assert isinstance(invoker, discord.Member)
            perms = invoker.guild_permissions
            if not perms.administrator and not perms.is_superset(root.default_permissions):
                raise CommandUnavailableError(
                    f"/{root.name} needs default permissions {root.default_permissions!r}; "
                    f"{invoker} does not see it")

    def _options(self, cmd: app_commands.Command[Any, ..., Any], given: Mapping[str, Any],
                 invoker: User, where: Channel, resolved: JsonDict,
                 focused: str | None) -> list[JsonDict]:
        params = cmd.parameters
        out, seen = [], set()
        for key, value in given.items():
            param = next((p for p in params if key in (p.name, p.display_name)), None)
            if param is None:
                names = [p.name for p in params]
                raise InvalidInteractionInput(f"/{cmd.qualified_name} has no option {key!r}; "
                                              f"options: {names}")
            seen.add(param.name)
            is_focused = focused in (param.name, param.display_name)
            if value is None and not is_focused:
                continue
            out.append(self._option(param, value, invoker, where, resolved, is_focused))
        missing = [p.display_name for p in params if p.required and p.name not in seen]
        if missing and focused is None:
            raise InvalidInteractionInput(
                f"Discord requires option(s) {missing} for /{cmd.qualified_name}")
        return out

    def _option(self, param: app_commands.Parameter, value: Any, invoker: User,
                where: Channel, resolved: JsonDict, focused: bool) -> JsonDict:
        kind = param.type
        opt: JsonDict = {"type": kind.value, "name": param.display_name}
        if focused:  # the text being typed, before any validation
            return {**opt, "value": value if isinstance(value, str | int | float) else str(value),
                    "focused": True}
        if isinstance(value, app_commands.Choice):
            value = value.value
        if isinstance(value, enum.Enum):
            values = [c.value for c in param.choices]
            value = value.value if value.value in values or not values else value.name
        if kind in (Opt.string, Opt.integer, Opt.number, Opt.boolean):
            value = _primitive(param, value)
        elif kind is Opt.attachment:
            value = self._attachment(value, resolved)
        else:
            value = _entity(param, value, invoker, where, resolved)
        return {**opt, "value": value}

    def _attachment(self, spec: Mapping[str, Any], resolved: JsonDict) -> str:
        spec = dict(spec)
        if "content" in spec:
            content: bytes = spec.pop("content")
            spec.setdefault("size", len(content))
            url = store_attachment(spec["filename"], content)
        else:
            url = spec.get("url") or f"https://cdn.discordapp.com/attachments/0/0/{spec['filename']}"
        data = payloads.attachment(spec, url)
        resolved.setdefault("attachments", {})[data["id"]] = data
        return data["id"]

    # ------------------------------------------------------------ components and modals

    async def click(self, user: User, message: Target, custom_id: str, /, *,
                    require_response: bool | None = None) -> Responses:
        """Press the button `custom_id` on a message (a Response, a discord.Message or an id)."""
        return await self._component(user, message, custom_id, None, require_response)

    async def select(self, user: User, message: Target, custom_id: str,
                     values: Sequence[Any], /, *, require_response: bool | None = None
                     ) -> Responses:
        """Choose `values` in a select menu; entity selects take Members, Roles, channels."""
        return await self._component(user, message, custom_id, list(values), require_response)

    async def _component(self, user: User, target: Target, custom_id: str,
                         values: list[Any] | None, require_response: bool | None) -> Responses:
        msg = self.message_json(target)
        where = self._channel(int(msg["channel_id"]))
        invoker = self._invoker(user, where)
        self._check_visible(msg, invoker)
        comp = next((c for c in walk_components(msg.get("components", []))
                     if c.get("custom_id") == custom_id), None)
        if comp is None or comp.get("disabled"):
            ids = [c["custom_id"] for c in walk_components(msg.get("components", []))
                   if "custom_id" in c and not c.get("disabled")]
            state = "is disabled" if comp else "does not exist"
            raise ComponentNotFoundError(f"component {custom_id!r} {state}; enabled: {ids}")
        data: JsonDict = {"custom_id": custom_id, "component_type": comp["type"]}
        if comp["type"] == 2:
            if values is not None:
                raise InvalidInteractionInput(f"{custom_id!r} is a button: use click()")
        elif comp["type"] in SELECTS:
            if values is None:
                raise InvalidInteractionInput(f"{custom_id!r} is a select: use select()")
            data.update(_select_values(comp, values, where, invoker))
        else:
            raise InvalidInteractionInput(f"component type {comp['type']} is not interactive")
        payload = payloads.interaction(type=3, app_id=self.recorder.app_id, invoker=invoker,
                                       where=where, data=data, msg=msg)
        return await self._feed(payload, require_response)

    async def submit_modal(self, user: User, opened: Response | Responses,
                           values: Mapping[str, str | Sequence[str]], /, *,
                           require_response: bool | None = None) -> Responses:
        """Fill in and submit the modal the bot opened in `opened` ({custom_id: value})."""
        spec = opened.modal
        if spec is None:
            raise InvalidInteractionInput("no modal was opened in that response")
        record = self._record_for(opened)
        where = self._channel(record.channel_id)
        invoker = self._invoker(user, where)
        unknown = set(values) - set(spec.fields)
        if unknown:
            raise InvalidInteractionInput(f"modal has no fields {sorted(unknown)}; "
                                          f"fields: {sorted(spec.fields)}")
        rows = []
        for top in spec.components:
            if top.get("type") == 1:
                rows.append({"type": 1, "components": [
                    _submitted(c, values) for c in top.get("components", [])]})
            elif top.get("type") == 18:
                rows.append({"type": 18, "id": top.get("id"),
                             "component": _submitted(top["component"], values)})
        msg = None
        if record.source_message_id is not None:
            msg = self.message_json(record.source_message_id)
        payload = payloads.interaction(type=5, app_id=self.recorder.app_id, invoker=invoker,
                                       where=where, msg=msg,
                                       data={"custom_id": spec.custom_id, "components": rows})
        return await self._feed(payload, require_response)

    def _record_for(self, opened: Response | Responses) -> InteractionRecord:
        response = opened if isinstance(opened, Response) else next(
            r for r in opened if r.modal is not None)
        return self.recorder.record(response.interaction_id)

    # ------------------------------------------------------------ who and where

    async def _context(self, user: User, guild: discord.Guild | None, channel: Channel | None,
                       dm: bool) -> tuple[User, Channel]:
        if channel is None and (dm or not isinstance(user, discord.Member)) and guild is None:
            base = user._user if isinstance(user, discord.Member) else user
            channel = base.dm_channel or await base.create_dm()
        elif channel is None:
            guild = guild or user.guild  # type: ignore[union-attr]
            member = guild.get_member(user.id)
            visible = [c for c in guild.text_channels
                       if member is not None and c.permissions_for(member).view_channel]
            if not visible:
                raise CommandUnavailableError(f"{user} sees no text channel in {guild}")
            channel = visible[0]
        invoker = self._invoker(user, channel)
        if isinstance(channel, discord.abc.GuildChannel):
            assert isinstance(invoker, discord.Member)
            if not channel.permissions_for(invoker).view_channel:
                raise CommandUnavailableError(f"{invoker} cannot see #{channel.name}")
        return invoker, channel

    def _channel(self, channel_id: int) -> Channel:
        channel = self.bot._connection.get_channel(channel_id)
        if not isinstance(channel, discord.abc.GuildChannel | discord.DMChannel):
            raise ComponentNotFoundError(f"channel {channel_id} is unknown (deleted?)")
        return channel

    def _invoker(self, user: User, where: Channel) -> User:
        if isinstance(where, discord.DMChannel):
            base = user._user if isinstance(user, discord.Member) else user
            if where.recipient is not None and where.recipient.id != base.id:
                raise ComponentNotFoundError(f"{base} is not in the DM with {where.recipient}")
            return base
        member = where.guild.get_member(user.id)
        if member is None:
            raise CommandUnavailableError(f"{user} is not a member of {where.guild}")
        return member

    def _check_visible(self, msg: JsonDict, invoker: User) -> None:
        if int(msg.get("flags") or 0) & EPHEMERAL:
            owner = self.recorder.owners.get(int(msg["id"]))
            if owner is not None and owner != invoker.id:
                raise ComponentNotFoundError(f"{invoker} cannot see another user's ephemeral "
                                             "message")
        where = self._channel(int(msg["channel_id"]))
        if (isinstance(where, discord.abc.GuildChannel) and isinstance(invoker, discord.Member)
                and not where.permissions_for(invoker).view_channel):
            raise ComponentNotFoundError(f"{invoker} cannot see #{where.name}")

    # ------------------------------------------------------------ feeding and waiting

    async def _feed(self, payload: JsonDict, require_response: bool | None) -> Responses:
        record = self.recorder.register(payload)
        start = len(self.recorder.responses)
        before = asyncio.all_tasks()
        self.bot._connection.parse_interaction_create(copy.deepcopy(payload))
        await self._settle(before)
        self._raise_logged_errors()
        required = self.require_response if require_response is None else require_response
        if required and not record.acknowledged:
            data = payload.get("data", {})
            raise NoResponseError(
                f"the bot never answered interaction type {payload['type']} "
                f"({data.get('name') or data.get('custom_id')})"
                ": Discord would show 'This interaction failed'. Pass require_response=False "
                "if that is intended.")
        return Responses(self.recorder.responses[start:])

    def _is_ignored(self, task: asyncio.Task[Any]) -> bool:
        coro = task.get_coro()
        names = (task.get_name(), getattr(coro, "__qualname__", "") or "")
        return any(pattern in name for pattern in self._ignored for name in names)

    async def _settle(self, before: set[asyncio.Task[Any]]) -> None:
        """Wait until every task started since `before` finished (discord.py's and the bot's)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        current = asyncio.current_task()
        quiet_rounds = 0
        while quiet_rounds < 2:
            await asyncio.sleep(0)
            pending = [t for t in asyncio.all_tasks()
                       if t not in before and t is not current and not t.done()
                       and not self._is_ignored(t)]
            if not pending:
                quiet_rounds += 1
                continue
            quiet_rounds = 0
            remaining = deadline - loop.time()
            if remaining <= 0:
                names = sorted(t.get_name() for t in pending)
                raise InteractionTimeoutError(
                    f"tasks still running after {self.timeout}s: {names}; "
                    "use driver.ignore_tasks(name) for long-lived ones")
            await asyncio.wait(pending, timeout=remaining)

    def _raise_logged_errors(self) -> None:
        records = self.log.take_unexpected()
        if records:
            raise UnhandledInteractionError(records)


def _primitive(param: app_commands.Parameter, value: Any) -> Any:
    kind = param.type
    ok = {
        Opt.string: isinstance(value, str),
        Opt.integer: isinstance(value, int) and not isinstance(value, bool),
        Opt.number: isinstance(value, int | float) and not isinstance(value, bool),
        Opt.boolean: isinstance(value, bool),
    }[kind]
    if not ok:
        raise InvalidInteractionInput(f"option {param.display_name!r} is {kind.name}, "
                                      f"got {value!r}")
    choices = [c.value for c in param.choices]
    if choices and value not in choices:
        raise InvalidInteractionInput(f"option {param.display_name!r} must be one of {choices}")
    low, high = param.min_value, param.max_value
    size = len(value) if kind is Opt.string else value
    if (low is not None and size < low) or (high is not None and size > high):
        raise InvalidInteractionInput(f"option {param.display_name!r}={value!r} is outside "
                                      f"{low}..{high}")
    return float(value) if kind is Opt.number else value


def _resolve_entity(value: Any, where: Channel, invoker: User, resolved: JsonDict) -> None:
    """Add `value` (user, member, role or channel) to an interaction's `resolved` data."""
    if isinstance(value, discord.Member | discord.User):
        resolved.setdefault("users", {})[str(value.id)] = payloads.user(value)
        if isinstance(value, discord.Member) and isinstance(where, discord.abc.GuildChannel):
            resolved.setdefault("members", {})[str(value.id)] = payloads.member(
                value, where.permissions_for(value), with_user=False)
    elif isinstance(value, discord.Role):
        resolved.setdefault("roles", {})[str(value.id)] = payloads.role(value)
    elif isinstance(value, discord.abc.GuildChannel):
        perms = value.permissions_for(invoker) if isinstance(invoker, discord.Member) else None
        resolved.setdefault("channels", {})[str(value.id)] = payloads.channel(
            value, perms or discord.Permissions.none())


_USERS = (discord.Member, discord.User)
_OPTION_ACCEPTS: dict[Opt, tuple[type, ...]] = {
    Opt.user: _USERS, Opt.mentionable: (*_USERS, discord.Role), Opt.role: (discord.Role,),
    Opt.channel: (discord.abc.GuildChannel,),
}
_SELECT_ACCEPTS: dict[int, tuple[type, ...]] = {  # by component type
    5: _USERS, 6: (discord.Role,), 7: (*_USERS, discord.Role), 8: (discord.abc.GuildChannel,),
}


def _entity(param: app_commands.Parameter, value: Any, invoker: User, where: Channel,
            resolved: JsonDict) -> str:
    if not isinstance(value, _OPTION_ACCEPTS[param.type]):
        raise InvalidInteractionInput(
            f"option {param.display_name!r} ({param.type.name}) cannot take {value!r}")
    if param.channel_types and value.type not in param.channel_types:
        raise InvalidInteractionInput(
            f"option {param.display_name!r} accepts {param.channel_types}, not {value.type}")
    _resolve_entity(value, where, invoker, resolved)
    return str(value.id)


def _select_values(comp: JsonDict, values: list[Any], where: Channel,
                   invoker: User) -> JsonDict:
    low, high = comp.get("min_values", 1), comp.get("max_values", 1)
    if not low <= len(values) <= high:
        raise InvalidInteractionInput(f"select {comp['custom_id']!r} takes {low}..{high} values")
    if comp["type"] == 3:
        allowed = [o["value"] for o in comp.get("options", [])]
        bad = [v for v in values if v not in allowed]
        if bad:
            raise InvalidInteractionInput(f"{bad} not among the options {allowed}")
        return {"values": [str(v) for v in values]}
    resolved: JsonDict = {}
    for v in values:
        if not isinstance(v, _SELECT_ACCEPTS[comp["type"]]):
            raise InvalidInteractionInput(f"select type {comp['type']} cannot take {v!r}")
        _resolve_entity(v, where, invoker, resolved)
    return {"values": [str(v.id) for v in values], "resolved": resolved}


def _submitted(component: JsonDict, values: Mapping[str, str | Sequence[str]]) -> JsonDict:
    custom_id = component.get("custom_id", "")
    if component.get("type") == 4:  # text input
        value = values.get(custom_id, component.get("value") or "")
        if not isinstance(value, str):
            raise InvalidInteractionInput(f"text input {custom_id!r} takes a string")
        if component.get("required", True) and not value:
            raise InvalidInteractionInput(f"text input {custom_id!r} is required")
        low, high = component.get("min_length") or 0, component.get("max_length") or 4000
        if value and not low <= len(value) <= high:
            raise InvalidInteractionInput(f"text input {custom_id!r} takes {low}..{high} chars")
        return {"type": 4, "custom_id": custom_id, "value": value}
    chosen = values.get(custom_id, [])
    picked: Iterable[str] = [chosen] if isinstance(chosen, str) else chosen
    return {"type": component.get("type"), "custom_id": custom_id,
            "values": [str(v) for v in picked]}
