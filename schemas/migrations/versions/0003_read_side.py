"""Read-side schema changes: solve options, phase and timings on tasks, history and queue indexes.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tasks", sa.Column("options", postgresql.JSONB(), nullable=True,
                                     comment="Solve options: tol, max_iter, preconditioner."))
    op.add_column("tasks", sa.Column("phase", sa.String(length=64), nullable=True,
                                     comment="Latest phase a worker reported, e.g. factorize."))
    op.add_column("tasks", sa.Column("timings", postgresql.JSONB(), nullable=True,
                                     comment="Seconds per phase of the solve: load, solve, store, total."))
    op.create_index("ix_tasks_user_history", "tasks",
                    ["user_id", sa.text("submitted_at DESC"), sa.text("task_id DESC")])
    op.create_index("ix_tasks_queued", "tasks", ["submitted_at"], postgresql_where=sa.text("status = 'queued'"))


def downgrade() -> None:
    op.drop_index("ix_tasks_queued", table_name="tasks")
    op.drop_index("ix_tasks_user_history", table_name="tasks")
    op.drop_column("tasks", "timings")
    op.drop_column("tasks", "phase")
    op.drop_column("tasks", "options")
