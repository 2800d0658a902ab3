"""Member preferences: the timezone a student sees booking times in, and reminder choices.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

One row per Discord user (not per server): a timezone given to `/book` in one server is
remembered everywhere. A NULL timezone means "not known yet"; NULL reminder offsets mean "use
the offering's".
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "member_preferences",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("reminders_enabled", sa.Boolean(), nullable=False),
        sa.Column("reminder_offsets_minutes", JSON_DOCUMENT, nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_member_preferences")),
    )


def downgrade() -> None:
    op.drop_table("member_preferences")
