"""Server configuration by its admins: read it, validate and apply `/coaching setup`, and decide
who may act as a coach. Every change writes an audit entry (who, what, before, after)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from scheduling.errors import InvalidInput
from scheduling.money import normalise_currency
from scheduling.policy import DEFAULT_POLICY, Policy, make_policy

DEFAULT_CURRENCY = "USD"  # the guild_settings column default (a test keeps them equal)
ACCESS_ROLE_NAME = "Coaching Access"
CATEGORY_NAME = "Coaching"

# What the configuration keys are called in replies and in the audit trail.
FIELD_LABELS: dict[str, str] = {
    "access_role_id": "Coaching Access role",
    "category_id": "Session category",
    "log_channel_id": "Log channel",
    "required_role_id": "Required role",
    "currency": "Currency",
    "default_policy": "Cancellation policy",
    "platform_fee_percent": "Platform fee",
    "referral_commission_percent": "Referral commission",
    "channel_retention_days": "Channel retention",
}
MAX_RETENTION_DAYS = 365
# Settings an admin may remove with `/coaching setup clear:...` (the others are needed).
CLEARABLE: dict[str, str] = {"log_channel": "log_channel_id", "required_role": "required_role_id"}

COMMON_CURRENCIES: dict[str, str] = {
    "USD": "US dollar", "EUR": "Euro", "GBP": "British pound", "CAD": "Canadian dollar",
    "AUD": "Australian dollar", "NZD": "New Zealand dollar", "CHF": "Swiss franc",
    "JPY": "Japanese yen", "INR": "Indian rupee", "BRL": "Brazilian real",
    "MXN": "Mexican peso", "SEK": "Swedish krona", "NOK": "Norwegian krone",
    "DKK": "Danish krone", "PLN": "Polish zloty", "CZK": "Czech koruna",
    "SGD": "Singapore dollar", "HKD": "Hong Kong dollar", "ZAR": "South African rand",
    "KRW": "South Korean won", "TRY": "Turkish lira", "PHP": "Philippine peso",
    "IDR": "Indonesian rupiah", "AED": "UAE dirham", "ILS": "Israeli new shekel",
}


# ---------------------------------------------------------------- ports


class GuildSettingsRecord(Protocol):
    guild_id: int
    access_role_id: int | None
    category_id: int | None
    log_channel_id: int | None
    required_role_id: int | None
    currency: str
    default_policy: dict[str, Any]
    platform_fee_percent: int
    referral_commission_percent: int
    channel_retention_days: int


class GuildSettingsStore(Protocol):
    async def get(self, guild_id: int) -> GuildSettingsRecord | None: ...

    async def update(self, guild_id: int, **values: Any) -> GuildSettingsRecord: ...

    async def count_paid_published_offerings(self, guild_id: int) -> int: ...


class CoachGrantRecord(Protocol):
    kind: str
    target_id: int


class CoachGrantStore(Protocol):
    async def list_for_guild(self, guild_id: int) -> Sequence[CoachGrantRecord]: ...

    async def add(self, guild_id: int, kind: str, target_id: int) -> bool: ...

    async def remove(self, guild_id: int, kind: str, target_id: int) -> bool: ...


class CoachProfileRecord(Protocol):
    user_id: int
    display_name: str


class CoachProfiles(Protocol):
    async def list_for_guild(self, guild_id: int) -> Sequence[CoachProfileRecord]: ...


class AuditTrail(Protocol):
    async def add(self, *, guild_id: int, actor_id: int, action: str,
                  before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
                  at: datetime | None = None) -> object: ...


class SetupUnitOfWork(Protocol):
    guild_settings: GuildSettingsStore
    audit: AuditTrail


class CoachGrantsUnitOfWork(Protocol):
    guild_settings: GuildSettingsStore
    coach_grants: CoachGrantStore
    coaches: CoachProfiles
    audit: AuditTrail


# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class ServerConfig:
    """A server's configuration as admins see it (defaults when it was never configured)."""

    guild_id: int
    access_role_id: int | None = None
    category_id: int | None = None
    log_channel_id: int | None = None
    required_role_id: int | None = None
    currency: str = DEFAULT_CURRENCY
    default_policy: Mapping[str, Any] = field(default_factory=DEFAULT_POLICY.to_dict)
    configured: bool = False
    platform_fee_percent: int = 0
    channel_retention_days: int = 7
    referral_commission_percent: int = 0

    @property
    def policy(self) -> Policy:
        return Policy.from_dict(self.default_policy)

    def value(self, key: str) -> Any:
        value = getattr(self, key)
        return dict(value) if isinstance(value, Mapping) else value

    @classmethod
    def of(cls, guild_id: int, record: GuildSettingsRecord | None) -> ServerConfig:
        if record is None:
            return cls(guild_id)
        return cls(guild_id, record.access_role_id, record.category_id, record.log_channel_id,
                   record.required_role_id, record.currency, dict(record.default_policy),
                   configured=True, platform_fee_percent=record.platform_fee_percent,
                   channel_retention_days=record.channel_retention_days,
                   referral_commission_percent=record.referral_commission_percent)


@dataclass(frozen=True)
class RoleFacts:
    """What setup needs to know about a role an admin picked (read from Discord by the cog)."""

    id: int
    name: str
    is_default: bool = False  # @everyone
    managed: bool = False  # a bot's or an integration's role: nobody can assign it
    below_bot: bool = True  # under the bot's highest role, so the bot can assign it
    bot_role_name: str = "Coachbot"


@dataclass(frozen=True)
class SetupRequest:
    """The options of one `/coaching setup`; None/False means 'leave as it is'."""

    access_role: RoleFacts | None = None
    create_access_role: bool = False
    existing_access_role: RoleFacts | None = None  # the configured role, if it still exists
    category_id: int | None = None
    create_category: bool = False
    existing_category_id: int | None = None  # the configured category, if it still exists
    log_channel_id: int | None = None
    required_role: RoleFacts | None = None
    currency: str | None = None
    cancel_notice_hours: int | None = None
    refund_percent: int | None = None
    platform_fee_percent: int | None = None
    referral_commission_percent: int | None = None
    channel_retention_days: int | None = None
    clear: frozenset[str] = frozenset()

    @property
    def is_empty(self) -> bool:
        return self == SetupRequest(existing_access_role=self.existing_access_role,
                                    existing_category_id=self.existing_category_id)


@dataclass(frozen=True)
class SetupPlan:
    """Validated changes. When `create_access_role`/`create_category` is set, the caller creates
    the role/category in Discord and adds its id to `values` before applying."""

    values: dict[str, Any]
    create_access_role: bool = False
    create_category: bool = False
    notes: tuple[str, ...] = ()

    def with_value(self, key: str, value: Any) -> SetupPlan:
        return SetupPlan({**self.values, key: value}, self.create_access_role,
                         self.create_category, self.notes)


@dataclass(frozen=True)
class AuditNote:
    """An audit entry that was written, for posting to the log channel."""

    action: str
    summary: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    at: datetime
    log_channel_id: int | None


@dataclass(frozen=True)
class SetupResult:
    before: ServerConfig
    after: ServerConfig
    changed: tuple[str, ...]  # keys of FIELD_LABELS, in that order
    audit: AuditNote | None


# ---------------------------------------------------------------- reading


async def get_config(uow: SetupUnitOfWork, guild_id: int) -> ServerConfig:
    return ServerConfig.of(guild_id, await uow.guild_settings.get(guild_id))


@dataclass(frozen=True)
class DoctorInputs:
    config: ServerConfig
    paid_published_offerings: int


async def doctor_inputs(uow: SetupUnitOfWork, guild_id: int) -> DoctorInputs:
    """What the doctor needs from storage (the rest comes from Discord)."""
    config = await get_config(uow, guild_id)
    paid = await uow.guild_settings.count_paid_published_offerings(guild_id)
    return DoctorInputs(config, paid)


def search_currencies(text: str, limit: int = 25) -> list[tuple[str, str]]:
    """(code, 'CODE: name') for common currencies matching what the admin is typing."""
    query = text.strip().lower()
    found = [(code, f"{code}: {name}") for code, name in COMMON_CURRENCIES.items()
             if not query or query in code.lower() or query in name.lower()]
    found.sort(key=lambda item: not item[0].lower().startswith(query))
    return found[:limit]


# ---------------------------------------------------------------- setup


def check_access_role(role: RoleFacts) -> None:
    """Refuse roles the bot cannot hand out to students."""
    if role.is_default:
        raise InvalidInput("@everyone cannot be the Coaching Access role: everybody already has "
                           "it. Pick a dedicated role, or use `create_access_role: True`.")
    if role.managed:
        raise InvalidInput(f"`{role.name}` is managed by a bot or an integration, so nobody can "
                           "give it to members. Pick another role, or use "
                           "`create_access_role: True`.")
    if not role.below_bot:
        raise InvalidInput(f"`{role.name}` is at or above my highest role (`{role.bot_role_name}`)"
                           ", so Discord won't let me give it to students. Move my role above it "
                           "in Server Settings > Roles, then run this again.")


def check_required_role(role: RoleFacts) -> None:
    if role.is_default:
        raise InvalidInput("@everyone as the required role would not restrict anything. Pick a "
                           "role like your verified role, or use `clear: required role` to let "
                           "everybody book.")


def plan_setup(current: ServerConfig, request: SetupRequest) -> SetupPlan:
    """Validate a `/coaching setup` request against the current configuration. Raises
    InvalidInput before anything is created or written."""
    values: dict[str, Any] = {}
    notes: list[str] = []
    create_role = create_category = False

    if request.access_role is not None and request.create_access_role:
        raise InvalidInput("Pick an existing `access_role` or use `create_access_role`, "
                           "not both.")
    if request.category_id is not None and request.create_category:
        raise InvalidInput("Pick an existing `category` or use `create_category`, not both.")
    for name in request.clear:
        key = CLEARABLE.get(name)
        if key is None:
            raise InvalidInput(f"`{name}` cannot be cleared. You can clear: "
                               f"{', '.join(CLEARABLE)}.")
    if "log_channel" in request.clear and request.log_channel_id is not None:
        raise InvalidInput("Set a `log_channel` or clear it, not both.")
    if "required_role" in request.clear and request.required_role is not None:
        raise InvalidInput("Set a `required_role` or clear it, not both.")

    if request.access_role is not None:
        check_access_role(request.access_role)
        values["access_role_id"] = request.access_role.id
    elif request.create_access_role:
        existing = request.existing_access_role
        if existing is not None:
            check_access_role(existing)
            notes.append(f"Kept the existing Coaching Access role `{existing.name}` instead of "
                         "creating a second one.")
        else:
            create_role = True

    if request.category_id is not None:
        values["category_id"] = request.category_id
    elif request.create_category:
        if request.existing_category_id is not None:
            notes.append("Kept the existing session category instead of creating a second one.")
        else:
            create_category = True

    if request.log_channel_id is not None:
        values["log_channel_id"] = request.log_channel_id
    if request.required_role is not None:
        check_required_role(request.required_role)
        values["required_role_id"] = request.required_role.id
    for name in request.clear:
        values[CLEARABLE[name]] = None

    if request.currency is not None:
        values["currency"] = normalise_currency(request.currency)

    if request.platform_fee_percent is not None:
        if not 0 <= request.platform_fee_percent <= 100:
            raise InvalidInput("The platform fee is a percentage of each paid session kept by "
                               "the server: give a whole number from 0 to 100.")
        values["platform_fee_percent"] = request.platform_fee_percent
    if request.referral_commission_percent is not None:
        if not 0 <= request.referral_commission_percent <= 100:
            raise InvalidInput("The referral commission is the percentage of a referred "
                               "booking's payment its referrer earns: give a whole number from "
                               "0 to 100.")
        values["referral_commission_percent"] = request.referral_commission_percent
    if request.channel_retention_days is not None:
        if not 0 <= request.channel_retention_days <= MAX_RETENTION_DAYS:
            raise InvalidInput(f"Keep session channels for 0 to {MAX_RETENTION_DAYS} days after "
                               "a session ends (0 deletes them right after).")
        values["channel_retention_days"] = request.channel_retention_days

    if request.cancel_notice_hours is not None or request.refund_percent is not None:
        values["default_policy"] = _policy_with_single_tier(
            current.policy, request.cancel_notice_hours, request.refund_percent).to_dict()

    return SetupPlan(values, create_role, create_category, tuple(notes))


def _policy_with_single_tier(current: Policy, notice_hours: int | None,
                             refund_percent: int | None) -> Policy:
    """The policy with one refund tier; a missing half comes from the current first tier."""
    first = current.tiers[0] if current.tiers else DEFAULT_POLICY.tiers[0]
    hours = first.min_notice_hours if notice_hours is None else notice_hours
    percent = first.refund_percent if refund_percent is None else refund_percent
    if hours < 0:
        raise InvalidInput("The cancellation notice cannot be negative. Give the hours before "
                           "the session until which students may cancel, like `24`.")
    return make_policy([(hours, percent)], max_reschedules=current.max_reschedules,
                       reschedule_min_notice_hours=current.reschedule_min_notice_hours)


async def apply_setup(uow: SetupUnitOfWork, *, guild_id: int, actor_id: int,
                      values: Mapping[str, Any], now: datetime) -> SetupResult:
    """Write the changed settings and their audit entry (the caller commits)."""
    unknown = set(values) - set(FIELD_LABELS)
    if unknown:
        raise ValueError(f"unknown settings {sorted(unknown)}")
    before = await get_config(uow, guild_id)
    changed = {key: values[key] for key in FIELD_LABELS
               if key in values and before.value(key) != values[key]}
    if not changed:
        return SetupResult(before, before, (), None)
    record = await uow.guild_settings.update(guild_id, **changed)
    after = ServerConfig.of(guild_id, record)
    old = {key: before.value(key) for key in changed}
    new = {key: after.value(key) for key in changed}
    await uow.audit.add(guild_id=guild_id, actor_id=actor_id, action="setup", before=old,
                        after=new, at=now)
    summary = "Changed the server setup: " + ", ".join(FIELD_LABELS[k] for k in changed) + "."
    note = AuditNote("setup", summary, old, new, now,
                     after.log_channel_id or before.log_channel_id)
    return SetupResult(before, after, tuple(changed), note)


# ---------------------------------------------------------------- coach grants

GRANT_KINDS = ("member", "role")


@dataclass(frozen=True)
class GrantChange:
    changed: bool  # False: it was already so (nothing written)
    audit: AuditNote | None


@dataclass(frozen=True)
class CoachRoster:
    member_ids: tuple[int, ...]
    role_ids: tuple[int, ...]
    profile_names: dict[int, str]  # user id -> coach profile display name

    def profiles_through_roles(self) -> list[tuple[int, str]]:
        """Coach profiles of members who are not granted directly (a role, or a lost grant)."""
        direct = set(self.member_ids)
        return [(uid, name) for uid, name in self.profile_names.items() if uid not in direct]


def _grant_key(kind: str) -> str:
    if kind not in GRANT_KINDS:
        raise ValueError(f"unknown grant kind {kind!r}")
    return f"coach_{kind}_id"


async def add_coach(uow: CoachGrantsUnitOfWork, *, guild_id: int, actor_id: int, kind: str,
                    target_id: int, now: datetime) -> GrantChange:
    """Let a member (or everyone holding a role) act as a coach."""
    key = _grant_key(kind)
    if not await uow.coach_grants.add(guild_id, kind, target_id):
        return GrantChange(False, None)
    after = {key: target_id}
    await uow.audit.add(guild_id=guild_id, actor_id=actor_id, action="coaches.add",
                        before=None, after=after, at=now)
    config = await get_config(uow, guild_id)
    summary = "Made a member a coach." if kind == "member" else "Gave coach rights to a role."
    return GrantChange(True, AuditNote("coaches.add", summary, None, after, now,
                                       config.log_channel_id))


async def remove_coach(uow: CoachGrantsUnitOfWork, *, guild_id: int, actor_id: int, kind: str,
                       target_id: int, now: datetime) -> GrantChange:
    """Withdraw coach rights granted to a member or a role."""
    key = _grant_key(kind)
    if not await uow.coach_grants.remove(guild_id, kind, target_id):
        return GrantChange(False, None)
    before = {key: target_id}
    await uow.audit.add(guild_id=guild_id, actor_id=actor_id, action="coaches.remove",
                        before=before, after=None, at=now)
    config = await get_config(uow, guild_id)
    summary = ("Removed a member's coach rights." if kind == "member"
               else "Removed a role's coach rights.")
    return GrantChange(True, AuditNote("coaches.remove", summary, before, None, now,
                                       config.log_channel_id))


async def coach_roster(uow: CoachGrantsUnitOfWork, guild_id: int) -> CoachRoster:
    grants = await uow.coach_grants.list_for_guild(guild_id)
    profiles = await uow.coaches.list_for_guild(guild_id)
    return CoachRoster(
        member_ids=tuple(g.target_id for g in grants if g.kind == "member"),
        role_ids=tuple(g.target_id for g in grants if g.kind == "role"),
        profile_names={p.user_id: p.display_name for p in profiles},
    )

