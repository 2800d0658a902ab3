"""The waitlist: students waiting for a coach's time to free up.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("coach_id", sa.Integer(), nullable=False),
        sa.Column("offering_id", sa.Integer(), nullable=True),
        sa.Column("student_id", sa.BigInteger(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("offered_start", TIMESTAMP, nullable=True),
        sa.Column("offered_offering_id", sa.Integer(), nullable=True),
        sa.Column("offer_expires_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "status IN ('waiting', 'offered', 'booked', 'passed', 'expired', 'left')",
            name=op.f("ck_waitlist_entries_status"),
        ),
        sa.CheckConstraint("days > 0", name=op.f("ck_waitlist_entries_days_positive")),
        sa.ForeignKeyConstraint(["coach_id"], ["coaches.id"],
                                name=op.f("fk_waitlist_entries_coach_id_coaches"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["offering_id"], ["offerings.id"],
                                name=op.f("fk_waitlist_entries_offering_id_offerings"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["offered_offering_id"], ["offerings.id"],
                                name=op.f("fk_waitlist_entries_offered_offering_id_offerings"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entries")),
    )
    op.create_index(op.f("ix_waitlist_entries_coach_id_status_created_at"), "waitlist_entries",
                    ["coach_id", "status", "created_at"])
    op.create_index(op.f("ix_waitlist_entries_guild_id_student_id"), "waitlist_entries",
                    ["guild_id", "student_id"])
    op.create_index(op.f("ix_waitlist_entries_status_offer_expires_at"), "waitlist_entries",
                    ["status", "offer_expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_waitlist_entries_status_offer_expires_at"),
                  table_name="waitlist_entries")
    op.drop_index(op.f("ix_waitlist_entries_guild_id_student_id"), table_name="waitlist_entries")
    op.drop_index(op.f("ix_waitlist_entries_coach_id_status_created_at"),
                  table_name="waitlist_entries")
    op.drop_table("waitlist_entries")
