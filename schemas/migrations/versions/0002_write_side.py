"""Write side: login throttling columns on users, a task_id index on idempotency_keys.

`idempotency_keys` holds one row per submitted task (the client's key, or
`auto:<task_id>` when it sent none), so the command API can check who owns a
task without waiting for the projector.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False,
                                     comment="Failed logins since the last success."))
    op.add_column("users", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True,
                                     comment="Logins are rejected with 429 until then."))
    op.create_index("ix_idempotency_keys_task_id", "idempotency_keys", ["task_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_task_id", table_name="idempotency_keys")
    op.drop_column("users", "locked_until")
    op.drop_column("users", "failed_logins")
