"""One verifiable log over every trail: leaves, the log's size, signed checkpoints.

Events that already exist become the log's first leaves, in (case id, sequence) order and then
the administration trail's in its order: the
order they were written in within each case, which is all an existing database can still
tell. Leaves written from now on follow in commit order.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10

"""
import hashlib

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = [
    """CREATE TRIGGER log_leaves_no_update BEFORE UPDATE ON log_leaves
       BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END""",
    """CREATE TRIGGER log_leaves_no_delete BEFORE DELETE ON log_leaves
       BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END""",
    """CREATE TRIGGER log_checkpoints_no_update BEFORE UPDATE ON log_checkpoints
       BEGIN SELECT RAISE(ABORT, 'checkpoints are never changed'); END""",
    """CREATE TRIGGER log_checkpoints_no_delete BEFORE DELETE ON log_checkpoints
       BEGIN SELECT RAISE(ABORT, 'checkpoints are never changed'); END""",
]
POSTGRESQL_TRIGGERS = [
    """CREATE TRIGGER log_leaves_append_only BEFORE UPDATE OR DELETE ON log_leaves
       FOR EACH ROW EXECUTE FUNCTION casework_refuse_change('the log is append-only')""",
    """CREATE TRIGGER log_leaves_no_truncate BEFORE TRUNCATE ON log_leaves
       FOR EACH STATEMENT EXECUTE FUNCTION casework_refuse_change('the log is append-only')""",
    """CREATE TRIGGER log_checkpoints_append_only BEFORE UPDATE OR DELETE ON log_checkpoints
       FOR EACH ROW EXECUTE FUNCTION casework_refuse_change('checkpoints are never changed')""",
]
BATCH = 5000


def upgrade():
    leaves = op.create_table(
        'log_leaves',
        sa.Column('position', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('row_id', sa.BigInteger(), nullable=False),
        sa.Column('ref', sa.String(length=100), nullable=False),
        sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint('position', name=op.f('pk_log_leaves')),
        sa.UniqueConstraint('kind', 'row_id', name=op.f('uq_log_leaves_kind')),
    )
    head = op.create_table(
        'log_head',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_log_head')),
    )
    op.create_table(
        'log_checkpoints',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('root_hash', sa.String(length=64), nullable=False),
        sa.Column('made_at', sa.DateTime(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('proof', sa.Text(), nullable=False),
        sa.Column('mailed', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_log_checkpoints')),
    )
    size = _backfill(leaves)
    op.bulk_insert(head, [{'id': 1, 'size': size}])
    postgresql = op.get_bind().dialect.name == 'postgresql'
    for statement in POSTGRESQL_TRIGGERS if postgresql else SQLITE_TRIGGERS:
        op.execute(statement)


def _backfill(leaves):
    """Every existing event as a leaf (the entry as `casework.logcheck.entry` makes it)."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT e.id, c.number, e.seq, e.hash FROM events e JOIN cases c ON c.id = e.case_id "
        "ORDER BY e.case_id, e.seq"
    ))
    position = 0
    batch = []
    sha256 = hashlib.sha256
    for event_id, number, seq, digest in rows:
        ref = f"{number}/{seq}"
        leaf = sha256(b"\x00case\n" + ref.encode() + b"\n" + bytes.fromhex(digest)).digest()
        batch.append({'position': position, 'kind': 'case', 'row_id': event_id, 'ref': ref, 'hash': leaf})
        position += 1
        if len(batch) == BATCH:
            bind.execute(leaves.insert(), batch)
            batch = []
    # Then the administration trail's events, in their order.
    for event_id, seq, digest in bind.execute(sa.text(
        "SELECT id, seq, hash FROM administration_events ORDER BY seq"
    )):
        ref = f"admin/{seq}"
        leaf = sha256(b"\x00admin\n" + ref.encode() + b"\n" + bytes.fromhex(digest)).digest()
        batch.append({'position': position, 'kind': 'admin', 'row_id': event_id, 'ref': ref, 'hash': leaf})
        position += 1
        if len(batch) == BATCH:
            bind.execute(leaves.insert(), batch)
            batch = []
    if batch:
        bind.execute(leaves.insert(), batch)
    return position


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        for name in ('log_leaves_no_update', 'log_leaves_no_delete', 'log_checkpoints_no_update', 'log_checkpoints_no_delete'):
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table('log_checkpoints')
    op.drop_table('log_head')
    op.drop_table('log_leaves')
