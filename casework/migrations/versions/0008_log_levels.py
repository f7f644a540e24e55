"""The log's upper tree levels, kept with its checkpoints.

Whole nodes of the log's Merkle tree from level 8 up (one per 256 leaves and above), so that a
checkpoint hashes only the leaves added since the one before and a printed record's proof reads
a few nodes, not the whole log. Empty at first: the next checkpoint fills it from the leaves.

On SQLite a leaf's position becomes the table's own row id (`INTEGER PRIMARY KEY`): one B-tree
fewer to write at every commit, and the leaves read in position order straight from the table.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-12

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


LEAF_TRIGGERS = {
    'log_leaves_no_update': """CREATE TRIGGER log_leaves_no_update BEFORE UPDATE ON log_leaves
       BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END""",
    'log_leaves_no_delete': """CREATE TRIGGER log_leaves_no_delete BEFORE DELETE ON log_leaves
       BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END""",
}


def _position_type(new, old):
    if op.get_bind().dialect.name != 'sqlite':
        return
    for name in LEAF_TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")
    with op.batch_alter_table('log_leaves', recreate='always') as batch:
        batch.alter_column(
            'position', type_=new, existing_type=old, existing_nullable=False, autoincrement=False
        )
    for statement in LEAF_TRIGGERS.values():
        op.execute(statement)


def upgrade():
    _position_type(sa.Integer(), sa.BigInteger())
    op.create_table(
        'log_nodes',
        sa.Column('level', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('index', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint('level', 'index', name=op.f('pk_log_nodes')),
    )


def downgrade():
    op.drop_table('log_nodes')
    _position_type(sa.BigInteger(), sa.Integer())
