"""initial schema: users, idempotency keys, read models, audit

Revision ID: 0001
Revises: (none)
Create Date: 2026-12-04 20:40:28.253972
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('projector_positions',
    sa.Column('consumer', sa.String(length=128), nullable=False),
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('partition', sa.Integer(), nullable=False),
    sa.Column('next_offset', sa.BigInteger(), nullable=False, comment='Offset of the next record to apply.'),
    sa.PrimaryKeyConstraint('consumer', 'topic', 'partition')
    )
    op.create_table('task_events',
    sa.Column('event_id', sa.UUID(), nullable=False),
    sa.Column('task_id', sa.UUID(), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=True),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('schema_version', sa.Integer(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('partition', sa.Integer(), nullable=False),
    sa.Column('offset', sa.BigInteger(), nullable=False),
    sa.Column('envelope', postgresql.JSONB(astext_type=sa.Text()), nullable=False, comment='The event exactly as decoded from the log.'),
    sa.PrimaryKeyConstraint('event_id'),
    sa.UniqueConstraint('topic', 'partition', 'offset', name='task_events_position')
    )
    op.create_index(op.f('ix_task_events_task_id'), 'task_events', ['task_id'], unique=False)
    op.create_table('tasks',
    sa.Column('task_id', sa.UUID(), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False, comment='queued, running, completed, failed, cancelled.'),
    sa.Column('method_requested', sa.String(length=32), nullable=False),
    sa.Column('method', sa.String(length=32), nullable=True, comment='The method that ran; auto resolves to one.'),
    sa.Column('method_reason', sa.Text(), nullable=True),
    sa.Column('input_kind', sa.String(length=32), nullable=False, comment='inline, blob or generated.'),
    sa.Column('input', postgresql.JSONB(astext_type=sa.Text()), nullable=False, comment='Input references: formats, blob refs, generator spec.'),
    sa.Column('rows', sa.Integer(), nullable=True),
    sa.Column('cols', sa.Integer(), nullable=True),
    sa.Column('nnz', sa.BigInteger(), nullable=True),
    sa.Column('is_sparse', sa.Boolean(), nullable=True),
    sa.Column('progress', sa.Float(), server_default='0', nullable=False, comment='Fraction 0..1 of the flops done.'),
    sa.Column('eta_s', sa.Float(), nullable=True),
    sa.Column('flops_done', sa.Float(), nullable=True),
    sa.Column('flops_total', sa.Float(), nullable=True),
    sa.Column('rate_flops_per_s', sa.Float(), nullable=True),
    sa.Column('iteration', sa.Integer(), nullable=True),
    sa.Column('residual', sa.Float(), nullable=True, comment='Latest relative residual of an iterative solve.'),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('elapsed_s', sa.Float(), nullable=True),
    sa.Column('gflops', sa.Float(), nullable=True),
    sa.Column('peak_memory_bytes', sa.BigInteger(), nullable=True),
    sa.Column('complexity', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('relative_residual', sa.Float(), nullable=True),
    sa.Column('residual_norm', sa.Float(), nullable=True),
    sa.Column('condition_estimate', sa.Float(), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('iterations', sa.Integer(), nullable=True),
    sa.Column('warnings', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('error', postgresql.JSONB(astext_type=sa.Text()), nullable=True, comment='code and message of a failure.'),
    sa.Column('attempt', sa.Integer(), server_default='1', nullable=False),
    sa.Column('worker', sa.String(length=128), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_requested', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('last_event_id', sa.UUID(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('task_id')
    )
    op.create_index(op.f('ix_tasks_status'), 'tasks', ['status'], unique=False)
    op.create_index(op.f('ix_tasks_submitted_at'), 'tasks', ['submitted_at'], unique=False)
    op.create_index(op.f('ix_tasks_user_id'), 'tasks', ['user_id'], unique=False)
    op.create_table('users',
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False, comment='Stored lower-cased.'),
    sa.Column('password_hash', sa.Text(), nullable=False, comment='Argon2id hash.'),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('user_id'),
    sa.UniqueConstraint('email')
    )
    op.create_table('idempotency_keys',
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False, comment='sha256 of the request body.'),
    sa.Column('task_id', sa.UUID(), nullable=False),
    sa.Column('response', postgresql.JSONB(astext_type=sa.Text()), nullable=True, comment='The 202 body, stored once the broker acknowledged.'),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.user_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'key')
    )
    op.create_table('results',
    sa.Column('task_id', sa.UUID(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('length', sa.Integer(), nullable=False),
    sa.Column('solution', postgresql.JSONB(astext_type=sa.Text()), nullable=True, comment='The solution vector when small enough to travel inline.'),
    sa.Column('blob_sha256', sa.String(length=64), nullable=True, comment='Blob store reference of a large solution.'),
    sa.Column('blob_format', sa.String(length=16), nullable=True),
    sa.Column('residual_history', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.task_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('task_id')
    )


def downgrade() -> None:
    op.drop_table('results')
    op.drop_table('idempotency_keys')
    op.drop_table('users')
    op.drop_index(op.f('ix_tasks_user_id'), table_name='tasks')
    op.drop_index(op.f('ix_tasks_submitted_at'), table_name='tasks')
    op.drop_index(op.f('ix_tasks_status'), table_name='tasks')
    op.drop_table('tasks')
    op.drop_index(op.f('ix_task_events_task_id'), table_name='task_events')
    op.drop_table('task_events')
    op.drop_table('projector_positions')
