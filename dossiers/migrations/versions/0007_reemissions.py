"""Re-issue plans and their items (one per affected convention, with its progress).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
MONEY = sa.Numeric(14, 2).with_variant(sa.String(20), "sqlite")


def upgrade() -> None:
    op.create_table(
        "reissue_plans",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("regles", sa.String(100), nullable=True),
        sa.Column("modele", sa.String(100), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("examinees", sa.Integer(), nullable=False),
        sa.Column("totaux", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reissue_plans"),
    )
    op.create_table(
        "reissue_items",
        sa.Column("plan_id", sa.String(32), nullable=False),
        sa.Column("convention_id", sa.String(100), nullable=False),
        sa.Column("departement", sa.String(3), nullable=False),
        sa.Column("nature", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("change", JSON, nullable=False),
        sa.Column("du_avant", MONEY, nullable=False),
        sa.Column("du_apres", MONEY, nullable=False),
        sa.Column("a_reverser", MONEY, nullable=False),
        sa.Column("postes_rendus", JSON, nullable=False),
        sa.Column("statut", sa.String(16), nullable=False),
        sa.Column("version_emise", sa.Integer(), nullable=True),
        sa.Column("job_id", sa.String(64), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("plan_id", "convention_id", name="pk_reissue_items"),
        sa.ForeignKeyConstraint(["plan_id"], ["reissue_plans.id"], name="fk_reissue_items_plan_id_reissue_plans"),
    )
    op.create_index("ix_reissue_items_plan_id_statut", "reissue_items", ["plan_id", "statut"])


def downgrade() -> None:
    op.drop_index("ix_reissue_items_plan_id_statut", table_name="reissue_items")
    op.drop_table("reissue_items")
    op.drop_table("reissue_plans")
