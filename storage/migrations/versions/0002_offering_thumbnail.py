"""Uploaded offering thumbnails, stored in the database.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

Discord attachment links expire after about a day, so a picture a coach uploads for an offering
card is kept here (base64 text, at most 1 MiB of image) and sent along with the card.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "offering_thumbnails",
        sa.Column("offering_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data_base64", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "content_type IN ('image/png', 'image/jpeg', 'image/gif', 'image/webp')",
            name=op.f("ck_offering_thumbnails_content_type"),
        ),
        sa.CheckConstraint(
            "size_bytes BETWEEN 1 AND 1048576", name=op.f("ck_offering_thumbnails_size_bytes_range")
        ),
        sa.ForeignKeyConstraint(
            ["offering_id"],
            ["offerings.id"],
            name=op.f("fk_offering_thumbnails_offering_id_offerings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("offering_id", name=op.f("pk_offering_thumbnails")),
    )


def downgrade() -> None:
    op.drop_table("offering_thumbnails")
