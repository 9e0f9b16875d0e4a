"""A signed copy is received for a convention *version*: one row per (convention, version, file).

Until this revision the same file for the same convention was one row whatever version it was sent
for: a copy first sent for the wrong version (refused, ``SIGNE_AUTRE_VERSION``) answered that
refusal for ever, even when sent again for the version it is. The unique constraint now includes
the version; existing rows keep theirs.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("archives") as batch:
        batch.drop_constraint("uq_archives_convention_id_sha256", type_="unique")
        batch.create_unique_constraint("uq_archives_convention_id_version_sha256", ["convention_id", "version", "sha256"])


def downgrade() -> None:
    with op.batch_alter_table("archives") as batch:
        batch.drop_constraint("uq_archives_convention_id_version_sha256", type_="unique")
        batch.create_unique_constraint("uq_archives_convention_id_sha256", ["convention_id", "sha256"])
