"""Signed copies received and archived; pieces keep a trace when personal data is deleted.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(100)
SHA256 = sa.String(64)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "archives",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("convention_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", SHA256, nullable=False),
        sa.Column("sha256_emis", SHA256, nullable=False),
        sa.Column("statut", sa.String(16), nullable=False),
        sa.Column("findings", JSON, nullable=False),
        sa.Column("fields", JSON, nullable=False),
        sa.Column("storage_key", sa.String(512), nullable=True),
        sa.Column("version_id", sa.String(255), nullable=True),
        sa.Column("retain_until", TIMESTAMP, nullable=True),
        sa.Column("certificat_key", sa.String(512), nullable=True),
        sa.Column("certificat_sha256", SHA256, nullable=True),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("archived_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_archives"),
        sa.ForeignKeyConstraint(["convention_id"], ["conventions.id"], name="fk_archives_convention_id_conventions"),
        sa.UniqueConstraint("convention_id", "sha256", name="uq_archives_convention_id_sha256"),
    )
    op.create_index("ix_archives_convention_id", "archives", ["convention_id"])
    op.create_index("ix_archives_sha256", "archives", ["sha256"])
    op.add_column("pieces", sa.Column("purged_at", TIMESTAMP, nullable=True))


def downgrade() -> None:
    op.drop_column("pieces", "purged_at")
    op.drop_index("ix_archives_sha256", table_name="archives")
    op.drop_index("ix_archives_convention_id", table_name="archives")
    op.drop_table("archives")
