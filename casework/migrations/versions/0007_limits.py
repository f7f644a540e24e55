"""Limits and throttles counted in the database; the outbox found by recipient.

`throttle_hits` holds one row per counted attempt (failed sign-ins, writes, reports), so a limit
holds across every worker and host; rows older than a day are pruned as new ones are written.
The outbox index finds a recipient's latest message, to space their e-mails out.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'throttle_hits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=400), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_throttle_hits')),
    )
    with op.batch_alter_table('throttle_hits', schema=None) as batch_op:
        batch_op.create_index('ix_throttle_hits_key_at', ['key', 'at'], unique=False)
        batch_op.create_index('ix_throttle_hits_at', ['at'], unique=False)
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_user_created', ['user_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_user_created')
    with op.batch_alter_table('throttle_hits', schema=None) as batch_op:
        batch_op.drop_index('ix_throttle_hits_at')
        batch_op.drop_index('ix_throttle_hits_key_at')
    op.drop_table('throttle_hits')
