"""Factory datasets lose their unused status, job and error: a dataset row is written only when
its import succeeds, so they were never anything but "done" or empty.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-23 19:01:57.605987
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("factory_datasets", schema=None) as batch_op:
        batch_op.drop_column("status")
        batch_op.drop_column("job_id")
        batch_op.drop_column("error")


def downgrade() -> None:
    with op.batch_alter_table("factory_datasets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("error", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("job_id", sa.String(length=36), nullable=True))
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="done")
        )
