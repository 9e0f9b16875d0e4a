"""Poste events: recrutement, fin de contrat, prolongation, absence, transfert (the life of each poste).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(100)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "evenements_postes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("convention_id", ID, nullable=False),
        sa.Column("poste_id", ID, nullable=False),
        sa.Column("request_id", sa.String(100), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("jour", sa.Date(), nullable=False),
        sa.Column("evenement", JSON, nullable=False),
        sa.Column("requete", JSON, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evenements_postes"),
        sa.ForeignKeyConstraint(["convention_id"], ["conventions.id"],
                                name="fk_evenements_postes_convention_id_conventions"),
        sa.UniqueConstraint("convention_id", "request_id", name="uq_evenements_postes_convention_id_request_id"),
    )
    op.create_index("ix_evenements_postes_convention_id", "evenements_postes", ["convention_id"])


def downgrade() -> None:
    op.drop_index("ix_evenements_postes_convention_id", table_name="evenements_postes")
    op.drop_table("evenements_postes")
