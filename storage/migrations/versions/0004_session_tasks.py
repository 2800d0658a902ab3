"""Session tasks: the timed steps of a booking after it is confirmed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

Status changes at the start and the end, closing the private channel, the rating request, the
transcripts and the channel's deletion; each row is claimed (``claimed_by``/``claimed_at``)
before it is run so that only one process runs it, like the rows of ``reminders``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "session_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("due_at", TIMESTAMP, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", TIMESTAMP, nullable=True),
        sa.Column("done_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "kind IN ('start', 'end', 'close', 'rating', 'transcript_student', "
            "'transcript_coach', 'delete_channel')",
            name=op.f("ck_session_tasks_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'done', 'skipped', 'failed')",
            name=op.f("ck_session_tasks_status"),
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_session_tasks_attempts_non_negative")),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_session_tasks_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_tasks")),
        sa.UniqueConstraint("booking_id", "kind", name=op.f("uq_session_tasks_booking_id_kind")),
    )
    op.create_index(op.f("ix_session_tasks_status_due_at"), "session_tasks", ["status", "due_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_session_tasks_status_due_at"), table_name="session_tasks")
    op.drop_table("session_tasks")
