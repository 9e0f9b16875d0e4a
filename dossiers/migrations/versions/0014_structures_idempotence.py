"""Structures are known by (département, reference): ``structures.ref``, unique within a département;
an Idempotency-Key is bound to its request: ``jobs.requete_sha256``.

Existing structures keep their key as their reference: every dossier, convention and document id
already issued stays what it is, and the portail that owns a structure keeps reaching it with the id
it always sent. Only structures created afterwards by a portail limited to some départements get a
key in their département's namespace (``33.STR-777777``, see ``dossiers.domain.structures``). Jobs
recorded before this revision have no request digest: their keys are honoured as before.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(100)


def upgrade() -> None:
    op.add_column("structures", sa.Column("ref", ID, nullable=True))
    op.execute("UPDATE structures SET ref = id")
    # SQLite alters a column by copying the table: Catalog.migrate runs with foreign keys off there and
    # checks them all before it commits
    with op.batch_alter_table("structures") as batch:
        batch.alter_column("ref", existing_type=ID, nullable=False)
        batch.create_unique_constraint("uq_structures_departement_ref", ["departement", "ref"])
    op.add_column("jobs", sa.Column("requete_sha256", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("jobs", "requete_sha256")
    with op.batch_alter_table("structures") as batch:
        batch.drop_constraint("uq_structures_departement_ref", type_="unique")
        batch.drop_column("ref")
