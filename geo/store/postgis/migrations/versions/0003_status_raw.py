"""Cases keep the source's own status text beside the mapped status (``status_raw``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: adding it rewrites nothing. Cases stored before it have none
    # until they are next re-sent (their row digest then differs, so they are updated).
    op.add_column("cases", sa.Column("status_raw", sa.Text()))


def downgrade() -> None:
    op.drop_column("cases", "status_raw")
