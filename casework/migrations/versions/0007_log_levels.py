"""The log's upper tree levels, kept with its checkpoints.

Whole nodes of the log's Merkle tree from level 8 up (one per 256 leaves and above), so that a
checkpoint hashes only the leaves added since the one before and a printed record's proof reads
a few nodes, not the whole log. Empty at first: the next checkpoint fills it from the leaves.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-12

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
        'log_nodes',
        sa.Column('level', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('index', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint('level', 'index', name=op.f('pk_log_nodes')),
    )


def downgrade():
    op.drop_table('log_nodes')
