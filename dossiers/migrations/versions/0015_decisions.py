"""Instructeurs' decisions on pieces and signed copies à vérifier, and the motif of a payment recorded
above what is due (``conum paiement --force``).

One decision per piece and per signed copy (unique): a new upload is a new piece, decided anew.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("cible", sa.String(8), nullable=False),
        sa.Column("piece_id", sa.Integer(), nullable=True),
        sa.Column("archive_id", sa.Integer(), nullable=True),
        sa.Column("verdict", sa.String(8), nullable=False),
        sa.Column("motif", sa.String(32), nullable=True),
        sa.Column("commentaire", sa.Text(), nullable=True),
        sa.Column("par", sa.String(200), nullable=False),
        sa.Column("token_id", sa.String(32), nullable=True),
        sa.Column("decided_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
        sa.ForeignKeyConstraint(["piece_id"], ["pieces.id"], name="fk_decisions_piece_id_pieces"),
        sa.ForeignKeyConstraint(["archive_id"], ["archives.id"], name="fk_decisions_archive_id_archives"),
        sa.UniqueConstraint("piece_id", name="uq_decisions_piece_id"),
        sa.UniqueConstraint("archive_id", name="uq_decisions_archive_id"),
    )
    with op.batch_alter_table("paiements") as batch:
        batch.add_column(sa.Column("motif", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("paiements") as batch:
        batch.drop_column("motif")
    op.drop_table("decisions")
