"""Versions carry their change request, document type, state and figures; payments.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(100)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
MONEY = sa.Numeric(14, 2).with_variant(sa.String(20), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    # plain ADD COLUMN and a unique index: no table rebuild, which SQLite would refuse on a catalog
    # whose documents already reference its versions (foreign keys are enforced)
    op.add_column("convention_versions", sa.Column("request_id", sa.String(100), nullable=True))
    op.add_column("convention_versions",
                  sa.Column("document_type", sa.String(16), server_default="convention", nullable=False))
    op.add_column("convention_versions", sa.Column("changement", JSON, nullable=True))
    op.add_column("convention_versions", sa.Column("etat", JSON, nullable=True))
    op.add_column("convention_versions", sa.Column("figures", JSON, nullable=True))
    op.create_index("uq_convention_versions_convention_id_request_id", "convention_versions",
                    ["convention_id", "request_id"], unique=True)

    op.create_table(
        "paiements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("convention_id", ID, nullable=False),
        sa.Column("periode_debut", sa.Date(), nullable=False),
        sa.Column("annee", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("montant", MONEY, nullable=False),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_paiements"),
        sa.ForeignKeyConstraint(["convention_id"], ["conventions.id"], name="fk_paiements_convention_id_conventions"),
        sa.UniqueConstraint("convention_id", "periode_debut", "annee", "date", "montant",
                            name="uq_paiements_convention_id_periode_debut_annee_date_montant"),
    )
    op.create_index("ix_paiements_convention_id", "paiements", ["convention_id"])


def downgrade() -> None:
    op.drop_index("ix_paiements_convention_id", table_name="paiements")
    op.drop_table("paiements")
    op.drop_index("uq_convention_versions_convention_id_request_id", table_name="convention_versions")
    for column in ("figures", "etat", "changement", "document_type", "request_id"):
        op.drop_column("convention_versions", column)
