"""Initial catalog: structures, conventions, their versions and documents.

Revision ID: 0001
Revises:
Create Date: 2025-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(100)
SHA256 = sa.String(64)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
# Euros to the cent: NUMERIC on PostgreSQL, canonical text ("127500.00") on SQLite, whose NUMERIC
# affinity would go through a float (see dossiers/adapters/catalog/coltypes.py).
MONEY = sa.Numeric(14, 2).with_variant(sa.String(20), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "structures",
        sa.Column("id", ID, nullable=False),
        sa.Column("siret", sa.String(14), nullable=False),
        sa.Column("denomination", sa.Text(), nullable=False),
        sa.Column("nature", sa.String(16), nullable=False),
        sa.Column("categorie_juridique", sa.String(8), nullable=False),
        sa.Column("departement", sa.String(3), nullable=False),
        sa.Column("adresse", sa.Text(), nullable=False),
        sa.Column("zone_prioritaire", sa.Boolean(), nullable=False),
        sa.Column("representant", JSON, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_structures"),
    )
    op.create_index("ix_structures_departement", "structures", ["departement"])

    op.create_table(
        "conventions",
        sa.Column("id", ID, nullable=False),
        sa.Column("structure_id", ID, nullable=False),
        sa.Column("vague", sa.Integer(), nullable=False),
        sa.Column("date_debut", sa.Date(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_conventions"),
        sa.ForeignKeyConstraint(
            ["structure_id"], ["structures.id"], name="fk_conventions_structure_id_structures"
        ),
        sa.UniqueConstraint("structure_id", "vague", name="uq_conventions_structure_id_vague"),
    )

    op.create_table(
        "convention_versions",
        sa.Column("convention_id", ID, nullable=False),
        sa.Column("numero", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("motif", sa.Text(), nullable=False),
        sa.Column("regles", sa.String(100), nullable=False),
        sa.Column("modele_version", sa.String(100), nullable=False),
        sa.Column("modele_sha256", SHA256, nullable=False),
        sa.Column("demande_sha256", SHA256, nullable=False),
        sa.Column("demande", JSON, nullable=False),
        sa.Column("montant_total", MONEY, nullable=False),
        sa.Column("echeancier", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("convention_id", "numero", name="pk_convention_versions"),
        sa.ForeignKeyConstraint(
            ["convention_id"], ["conventions.id"], name="fk_convention_versions_convention_id_conventions"
        ),
    )

    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("convention_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("storage_key", sa.String(512), nullable=False),
        sa.Column("sha256", SHA256, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_documents"),
        sa.ForeignKeyConstraint(
            ["convention_id", "version"],
            ["convention_versions.convention_id", "convention_versions.numero"],
            name="fk_documents_convention_id_version_convention_versions",
        ),
        sa.UniqueConstraint("storage_key", name="uq_documents_storage_key"),
        sa.UniqueConstraint("convention_id", "version", "kind", name="uq_documents_convention_id_version_kind"),
    )


def downgrade() -> None:
    op.drop_table("documents")
    op.drop_table("convention_versions")
    op.drop_table("conventions")
    op.drop_index("ix_structures_departement", table_name="structures")
    op.drop_table("structures")
