"""A renewal is a new convention: ``conventions.renouvelle`` links it to the convention it renews.

Until this revision a renouvellement was a version (an avenant) of the convention it renewed; those
versions stay where they are, readable as they were issued (their state, figures and documents are
unchanged). From now on a renewal is its own convention, of the same structure and possibly of the
same vague, so the one-convention-per-structure-and-vague rule only holds for conventions made from a
demande (``renouvelle`` null): a partial unique index replaces the unique constraint.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(100)
WHERE = sa.text("renouvelle IS NULL")


def upgrade() -> None:
    # SQLite drops a table constraint by copying the table: Catalog.migrate runs the migrations with
    # foreign keys off there and checks them all (PRAGMA foreign_key_check) before it commits.
    with op.batch_alter_table("conventions") as batch:
        batch.drop_constraint("uq_conventions_structure_id_vague", type_="unique")
        batch.add_column(sa.Column("renouvelle", ID, nullable=True))
        batch.create_unique_constraint("uq_conventions_renouvelle", ["renouvelle"])
        batch.create_foreign_key("fk_conventions_renouvelle_conventions", "conventions", ["renouvelle"], ["id"])
    op.create_index("uq_conventions_structure_id_vague_initiale", "conventions", ["structure_id", "vague"],
                    unique=True, sqlite_where=WHERE, postgresql_where=WHERE)


def downgrade() -> None:
    op.drop_index("uq_conventions_structure_id_vague_initiale", table_name="conventions")
    with op.batch_alter_table("conventions") as batch:
        batch.drop_constraint("fk_conventions_renouvelle_conventions", type_="foreignkey")
        batch.drop_constraint("uq_conventions_renouvelle", type_="unique")
        batch.drop_column("renouvelle")
        batch.create_unique_constraint("uq_conventions_structure_id_vague", ["structure_id", "vague"])
