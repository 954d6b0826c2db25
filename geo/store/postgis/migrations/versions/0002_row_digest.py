"""Cases carry a digest of their content, so unchanged re-sent cases are found by one join.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: adding it rewrites nothing. Rows written before it have none
    # and are compared column by column (and given their digest) when next re-sent.
    op.add_column("cases", sa.Column("row_digest", sa.BigInteger()))


def downgrade() -> None:
    op.drop_column("cases", "row_digest")
