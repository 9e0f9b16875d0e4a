"""Dossiers and their validated pieces.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(100)
SHA256 = sa.String(64)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dossiers",
        sa.Column("id", ID, nullable=False),
        sa.Column("structure_id", ID, nullable=False),
        sa.Column("vague", sa.Integer(), nullable=False),
        sa.Column("demande", JSON, nullable=False),
        sa.Column("demande_sha256", SHA256, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dossiers"),
        sa.ForeignKeyConstraint(["structure_id"], ["structures.id"], name="fk_dossiers_structure_id_structures"),
    )
    op.create_index("ix_dossiers_structure_id", "dossiers", ["structure_id"])

    op.create_table(
        "pieces",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dossier_id", ID, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("poste_id", ID, nullable=False),
        sa.Column("filename", sa.String(255), nullable=True),
        sa.Column("sha256", SHA256, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mime", sa.String(255), nullable=False),
        sa.Column("statut", sa.String(16), nullable=False),
        sa.Column("findings", JSON, nullable=False),
        sa.Column("fields", JSON, nullable=False),
        sa.Column("storage_key", sa.String(512), nullable=True),
        sa.Column("validated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pieces"),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"], name="fk_pieces_dossier_id_dossiers"),
        sa.UniqueConstraint("dossier_id", "kind", "poste_id", "sha256",
                            name="uq_pieces_dossier_id_kind_poste_id_sha256"),
    )
    op.create_index("ix_pieces_dossier_id", "pieces", ["dossier_id"])


def downgrade() -> None:
    op.drop_index("ix_pieces_dossier_id", table_name="pieces")
    op.drop_table("pieces")
    op.drop_index("ix_dossiers_structure_id", table_name="dossiers")
    op.drop_table("dossiers")
