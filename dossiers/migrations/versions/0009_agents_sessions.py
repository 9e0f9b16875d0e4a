"""Agents: the epoch of their sessions (a random value a session copies at login; logout draws a
new one, so every session of the agent, a copied cookie included, ends; no clock involved).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("agents", sa.Column("session_epoch", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("agents", "session_epoch")
