"""The archive ledger: an append-only hash chain of issued documents, archived copies and their
certificates (``registre``), and the heads of it timestamped by the TSA (``registre_ancrages``).

Existing documents are not backfilled: the chain starts with what is issued after this revision.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHA256 = sa.String(64)
TIMESTAMP = sa.DateTime(timezone=True)
SEQUENCE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # the rowid itself on SQLite


def upgrade() -> None:
    op.create_table(
        "registre",
        sa.Column("sequence", SEQUENCE, autoincrement=False, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("nature", sa.String(16), nullable=False),
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("sha256", SHA256, nullable=False),
        sa.Column("prev_hash", SHA256, nullable=False),
        sa.Column("hash", SHA256, nullable=False),
        sa.PrimaryKeyConstraint("sequence", name="pk_registre"),
        sa.UniqueConstraint("nature", "key", "sha256", name="uq_registre_nature_key_sha256"),
    )
    op.create_index("ix_registre_sha256", "registre", ["sha256"])
    op.create_table(
        "registre_ancrages",
        sa.Column("sequence", SEQUENCE, autoincrement=False, nullable=False),
        sa.Column("hash", SHA256, nullable=False),
        sa.Column("token", sa.LargeBinary(), nullable=False),
        sa.Column("storage_key", sa.String(512), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("sequence", name="pk_registre_ancrages"),
    )


def downgrade() -> None:
    op.drop_table("registre_ancrages")
    op.drop_index("ix_registre_sha256", table_name="registre")
    op.drop_table("registre")
