"""API tokens (hashed), the audit log of downloads and uploads, and who submitted each job.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from dossiers.domain.acces import search_key

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("departements", JSON, nullable=False),
        sa.Column("nom", sa.String(200), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_sha256", name="uq_api_tokens_token_sha256"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("token_id", sa.String(32), nullable=True),
        sa.Column("role", sa.String(16), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("ressource", sa.String(512), nullable=False),
        sa.Column("departement", sa.String(3), nullable=True),
        sa.Column("adresse", sa.String(64), nullable=True),
        sa.Column("statut_http", sa.Integer(), nullable=False),
        sa.Column("detail", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_token_id", "audit_log", ["token_id"])
    op.add_column("jobs", sa.Column("owner", sa.String(32), nullable=True))
    op.create_index("ix_jobs_owner", "jobs", ["owner"])
    op.add_column("structures", sa.Column("recherche", sa.Text(), nullable=True))
    structures = sa.table("structures", sa.column("id", sa.String), sa.column("denomination", sa.Text),
                          sa.column("recherche", sa.Text))
    bind = op.get_bind()
    for sid, denomination in bind.execute(sa.select(structures.c.id, structures.c.denomination)).all():
        bind.execute(structures.update().where(structures.c.id == sid).values(recherche=search_key(denomination)))


def downgrade() -> None:
    op.drop_column("structures", "recherche")
    op.drop_index("ix_jobs_owner", table_name="jobs")
    op.drop_column("jobs", "owner")
    op.drop_index("ix_audit_log_token_id", table_name="audit_log")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("api_tokens")
