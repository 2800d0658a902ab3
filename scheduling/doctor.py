"""`/coaching doctor`: what admins otherwise troubleshoot by hand, each with how to fix it.

Pure: the facts are gathered from Discord and storage by the caller (`bot/guild_facts.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

ROLES_PATH = "Server Settings > Roles"


class Severity(Enum):
    PROBLEM = "problem"  # something will fail (bookings, roles, channels)
    WARNING = "warning"  # a feature degrades (the audit trail is not posted)


@dataclass(frozen=True)
class Finding:
    severity: Severity
    title: str
    detail: str
    fix: str


@dataclass(frozen=True)
class RoleState:
    """A configured role that still exists."""

    id: int
    name: str
    position: int
    below_bot: bool  # strictly under the bot's highest role (Discord's order, ties by id)
    managed: bool = False


@dataclass(frozen=True)
class ChannelState:
    """A configured channel (or category) that still exists, seen with the bot's permissions."""

    id: int
    name: str
    view: bool = True
    send_messages: bool = True
    embed_links: bool = True
    manage_channels: bool = True
    manage_permissions: bool = True
    is_text: bool = True  # for the log channel
    is_category: bool = False  # for the session category


@dataclass(frozen=True)
class DoctorFacts:
    bot_role_name: str  # the bot's highest role
    bot_role_position: int
    manage_roles: bool
    manage_channels: bool
    access_role_id: int | None  # configured id
    access_role: RoleState | None  # None: not configured, or deleted
    category_id: int | None
    category: ChannelState | None
    log_channel_id: int | None
    log_channel: ChannelState | None
    required_role_id: int | None = None
    required_role: RoleState | None = None
    stripe_configured: bool = False
    paid_published_offerings: int = 0


@dataclass(frozen=True)
class DoctorReport:
    findings: tuple[Finding, ...]

    @property
    def all_good(self) -> bool:
        return not self.findings

    @property
    def problems(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.PROBLEM)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)


ALL_GOOD = ("All good: I can manage roles and channels, the Coaching Access role and the session "
            "category are set up correctly, and nothing else needs your attention.")


def diagnose(facts: DoctorFacts) -> DoctorReport:
    """Every finding, problems first, in the order an admin should fix them."""
    findings = [
        *_permissions(facts),
        *_access_role(facts),
        *_category(facts),
        *_required_role(facts),
        *_stripe(facts),
        *_log_channel(facts),
    ]
    findings.sort(key=lambda f: f.severity is not Severity.PROBLEM)
    return DoctorReport(tuple(findings))


def _my_role(facts: DoctorFacts) -> str:
    return f"my role (`{facts.bot_role_name}`)"


def _permissions(facts: DoctorFacts) -> list[Finding]:
    out = []
    if not facts.manage_roles:
        out.append(Finding(
            Severity.PROBLEM, "I lack the Manage Roles permission",
            "Without it I cannot give students the Coaching Access role after they book, "
            "create that role, or set who may see session channels.",
            f"In {ROLES_PATH}, open {_my_role(facts)} and turn on Manage Roles."))
    if not facts.manage_channels:
        out.append(Finding(
            Severity.PROBLEM, "I lack the Manage Channels permission",
            "Without it I cannot create the private session channel for a booking, or the "
            "Coaching category.",
            f"In {ROLES_PATH}, open {_my_role(facts)} and turn on Manage Channels."))
    return out


def _access_role(facts: DoctorFacts) -> list[Finding]:
    role = facts.access_role
    if facts.access_role_id is None:
        return [Finding(
            Severity.PROBLEM, "The Coaching Access role is not set",
            "Students who book get this role; without it nobody gets access after paying.",
            "Run `/coaching setup create_access_role: True` to let me create it, or "
            "`/coaching setup access_role: @role` to pick one.")]
    if role is None:
        return [Finding(
            Severity.PROBLEM, "The Coaching Access role was deleted",
            f"The configured role (id {facts.access_role_id}) no longer exists in this server.",
            "Run `/coaching setup create_access_role: True` to let me create a new one, or "
            "`/coaching setup access_role: @role` to pick another.")]
    out = []
    if role.managed:
        out.append(Finding(
            Severity.PROBLEM, f"The Coaching Access role `{role.name}` is managed by an "
            "integration",
            "Discord does not let anyone give a managed role to members.",
            "Run `/coaching setup create_access_role: True` or pick another role with "
            "`/coaching setup access_role: @role`."))
    elif not role.below_bot:
        out.append(Finding(
            Severity.PROBLEM,
            f"The Coaching Access role `{role.name}` is at or above my highest role",
            f"`{role.name}` is at position {role.position} and {_my_role(facts)} at "
            f"{facts.bot_role_position}; Discord only lets me give roles below my own.",
            f"In {ROLES_PATH}, drag {_my_role(facts)} above `{role.name}` and save."))
    return out


def _category(facts: DoctorFacts) -> list[Finding]:
    category = facts.category
    if facts.category_id is None:
        return [Finding(
            Severity.PROBLEM, "The session category is not set",
            "Private session channels are created under this category.",
            "Run `/coaching setup create_category: True` to let me create a private "
            "\"Coaching\" category, or `/coaching setup category: <category>` to pick one.")]
    if category is None or not category.is_category:
        return [Finding(
            Severity.PROBLEM, "The session category was deleted",
            f"The configured category (id {facts.category_id}) no longer exists.",
            "Run `/coaching setup create_category: True` to let me create a new one, or "
            "`/coaching setup category: <category>` to pick another.")]
    if not category.view:
        return [Finding(
            Severity.PROBLEM, f"I cannot see the category `{category.name}`",
            "I can't create session channels in a category I cannot see.",
            f"Edit the permissions of `{category.name}` and allow View Channel, Manage Channels "
            f"and Manage Permissions for {_my_role(facts)}.")]
    missing = [name for name, ok in (("Manage Channels", category.manage_channels),
                                     ("Manage Permissions", category.manage_permissions)) if not ok]
    if missing and facts.manage_channels and facts.manage_roles:
        return [Finding(
            Severity.PROBLEM, f"I cannot manage channels in `{category.name}`",
            f"The category's permissions deny me {' and '.join(missing)}, which I need to "
            "create private session channels in it.",
            f"Edit the permissions of `{category.name}` and allow {' and '.join(missing)} for "
            f"{_my_role(facts)}.")]
    return []


def _required_role(facts: DoctorFacts) -> list[Finding]:
    if facts.required_role_id is None or facts.required_role is not None:
        return []
    return [Finding(
        Severity.PROBLEM, "The role required to book was deleted",
        f"The configured role (id {facts.required_role_id}) no longer exists, so nobody can "
        "book.",
        "Run `/coaching setup required_role: @role` to pick another, or "
        "`/coaching setup clear: required role` to let everybody book.")]


def _stripe(facts: DoctorFacts) -> list[Finding]:
    if facts.stripe_configured or facts.paid_published_offerings <= 0:
        return []
    count = facts.paid_published_offerings
    plural = "offerings are" if count != 1 else "offering is"
    return [Finding(
        Severity.PROBLEM, "Stripe is not configured but paid offerings are published",
        f"{count} paid {plural} published, and students cannot pay for them.",
        "Set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET in the bot's environment and restart "
        "it, or have the coaches unpublish those offerings with `/offering unpublish`.")]


def _log_channel(facts: DoctorFacts) -> list[Finding]:
    channel = facts.log_channel
    if facts.log_channel_id is None:
        return []
    if channel is None or not channel.is_text:
        return [Finding(
            Severity.WARNING, "The log channel was deleted",
            f"The configured log channel (id {facts.log_channel_id}) no longer exists, so "
            "configuration changes are only recorded in the database.",
            "Run `/coaching setup log_channel: #channel` to pick another, or "
            "`/coaching setup clear: log channel`.")]
    missing = [name for name, ok in (("View Channel", channel.view),
                                     ("Send Messages", channel.send_messages),
                                     ("Embed Links", channel.embed_links)) if not ok]
    if not missing:
        return []
    listed = ", ".join(missing[:-1]) + (" and " if len(missing) > 1 else "") + missing[-1]
    return [Finding(
        Severity.WARNING, f"I cannot post in the log channel #{channel.name}",
        f"I am missing {listed} there, so the audit trail is not posted.",
        f"Edit the permissions of #{channel.name} and allow {listed} for {_my_role(facts)}.")]
