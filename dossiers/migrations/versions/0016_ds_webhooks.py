"""The Démarches simplifiées connector (sync state, dossiers and files taken, writes sent back) and the
portals' webhooks with their delivery log.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(100)
SHA256 = sa.String(64)
DS_INSTANT = sa.String(40)
JSONDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UTCDateTime = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ds_synchros",
        sa.Column("demarche", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("updated_since", DS_INSTANT, nullable=True),
        sa.Column("cursor", sa.String(500), nullable=True),
        sa.Column("run_max", DS_INSTANT, nullable=True),
        sa.Column("last_run_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("demarche", name=op.f("pk_ds_synchros")),
    )
    op.create_table(
        "ds_dossiers",
        sa.Column("demarche", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("ds_id", ID, nullable=False),
        sa.Column("dossier_id", ID, nullable=True),
        sa.Column("updated_at", DS_INSTANT, nullable=True),
        sa.Column("demande_sha256", SHA256, nullable=True),
        sa.Column("statut", sa.String(16), nullable=False),
        sa.Column("erreur", JSONDocument, nullable=True),
        sa.Column("synced_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("demarche", "number", name=op.f("pk_ds_dossiers")),
    )
    op.create_index(op.f("ix_ds_dossiers_dossier_id"), "ds_dossiers", ["dossier_id"])
    op.create_index(op.f("ix_ds_dossiers_statut"), "ds_dossiers", ["statut"])
    op.create_table(
        "ds_fichiers",
        sa.Column("cle", SHA256, nullable=False),
        sa.Column("demarche", sa.Integer(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("poste_id", ID, nullable=True),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("sha256", SHA256, nullable=False),
        sa.Column("job_id", sa.String(64), nullable=True),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("cle", name=op.f("pk_ds_fichiers")),
    )
    op.create_index(op.f("ix_ds_fichiers_number"), "ds_fichiers", ["number"])
    op.create_table(
        "ds_ecritures",
        sa.Column("cle", SHA256, nullable=False),
        sa.Column("demarche", sa.Integer(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("statut", sa.String(16), nullable=False),
        sa.Column("detail", JSONDocument, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("cle", name=op.f("pk_ds_ecritures")),
    )
    op.create_index(op.f("ix_ds_ecritures_number"), "ds_ecritures", ["number"])
    op.create_table(
        "webhooks",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("token_id", sa.String(32), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("evenements", JSONDocument, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("deleted_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    op.create_index(op.f("ix_webhooks_token_id"), "webhooks", ["token_id"])
    op.create_table(
        "webhook_livraisons",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("webhook_id", sa.String(32), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("payload", JSONDocument, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("statut", sa.String(16), nullable=False),
        sa.Column("tentatives", sa.Integer(), nullable=False),
        sa.Column("dernier_statut_http", sa.Integer(), nullable=True),
        sa.Column("derniere_erreur", sa.String(500), nullable=True),
        sa.Column("livree_at", UTCDateTime, nullable=True),
        sa.ForeignKeyConstraint(["webhook_id"], ["webhooks.id"], name=op.f("fk_webhook_livraisons_webhook_id_webhooks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_livraisons")),
        sa.UniqueConstraint("webhook_id", "event_id", name=op.f("uq_webhook_livraisons_webhook_id_event_id")),
    )
    op.create_index(op.f("ix_webhook_livraisons_statut"), "webhook_livraisons", ["statut"])
    op.create_index(op.f("ix_webhook_livraisons_webhook_id"), "webhook_livraisons", ["webhook_id"])


def downgrade() -> None:
    for table in ("webhook_livraisons", "webhooks", "ds_ecritures", "ds_fichiers", "ds_dossiers", "ds_synchros"):
        op.drop_table(table)
