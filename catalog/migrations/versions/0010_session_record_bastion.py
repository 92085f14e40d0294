"""session records name the bastion serving them

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("session_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bastion", sa.String(length=255), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("session_record", schema=None) as batch_op:
        batch_op.drop_column("bastion")
