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
    _backfill_contracts()


def _backfill_contracts() -> None:
    """States stored before this revision did not keep the contract's dates: a CDD read from them
    would never end. Take them from the convention's demande (version 1) for the postes the demande
    describes, so the timeline ends a CDD at its planned end as it does for new states."""
    versions = sa.table("convention_versions", sa.column("convention_id", ID), sa.column("numero", sa.Integer()),
                        sa.column("etat", JSON), sa.column("demande", JSON))
    bind = op.get_bind()
    contracts: dict[str, dict[str, dict[str, object]]] = {}
    for cid, demande in bind.execute(sa.select(versions.c.convention_id, versions.c.demande)
                                     .where(versions.c.numero == 1)):
        postes = demande.get("postes", []) if isinstance(demande, dict) else []
        contracts[cid] = {p["id"]: p["contrat"] for p in postes if isinstance(p, dict) and p.get("contrat")}
    rows = bind.execute(sa.select(versions.c.convention_id, versions.c.numero, versions.c.etat)
                        .where(versions.c.etat.is_not(None))).all()
    for cid, numero, etat in rows:
        if not isinstance(etat, dict):  # JSON null on SQLite
            continue
        known = contracts.get(cid, {})
        changed = False
        for poste in etat.get("postes", []):
            contrat = known.get(poste.get("id"))
            if "contrat_fin" in poste or contrat is None or poste.get("source", "demande") != "demande":
                continue
            if contrat.get("date_fin") and str(contrat["date_fin"]) < str(poste.get("debut")):
                continue  # renewed since: the demande's contract is not the one in force
            poste["contrat_debut"], poste["contrat_fin"] = contrat.get("date_debut"), contrat.get("date_fin")
            changed = True
        if changed:
            bind.execute(versions.update().where(versions.c.convention_id == cid, versions.c.numero == numero)
                         .values(etat=etat))


def downgrade() -> None:
    op.drop_index("ix_evenements_postes_convention_id", table_name="evenements_postes")
    op.drop_table("evenements_postes")
