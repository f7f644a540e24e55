"""The administration trail: changes to user accounts, hash-chained, append-only.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

GENESIS = "0" * 64

#: The trail is append-only, and its head row is never deleted: the database itself refuses.
SQLITE_TRIGGERS = {
    "administration_events_no_update": """CREATE TRIGGER administration_events_no_update
       BEFORE UPDATE ON administration_events
       BEGIN SELECT RAISE(ABORT, 'administration events are append-only'); END""",
    "administration_events_no_delete": """CREATE TRIGGER administration_events_no_delete
       BEFORE DELETE ON administration_events
       BEGIN SELECT RAISE(ABORT, 'administration events are append-only'); END""",
    "administration_trail_no_delete": """CREATE TRIGGER administration_trail_no_delete
       BEFORE DELETE ON administration_trail
       BEGIN SELECT RAISE(ABORT, 'the administration trail head is never deleted'); END""",
}

#: (trigger, table) on PostgreSQL, using casework_refuse_change() from 0001.
POSTGRESQL_TRIGGERS = {
    "administration_events_append_only": (
        "administration_events",
        """CREATE TRIGGER administration_events_append_only
           BEFORE UPDATE OR DELETE ON administration_events FOR EACH ROW
           EXECUTE FUNCTION casework_refuse_change('administration events are append-only')""",
    ),
    "administration_events_no_truncate": (
        "administration_events",
        """CREATE TRIGGER administration_events_no_truncate
           BEFORE TRUNCATE ON administration_events FOR EACH STATEMENT
           EXECUTE FUNCTION casework_refuse_change('administration events are append-only')""",
    ),
    "administration_trail_no_delete": (
        "administration_trail",
        """CREATE TRIGGER administration_trail_no_delete
           BEFORE DELETE ON administration_trail FOR EACH ROW
           EXECUTE FUNCTION casework_refuse_change('the administration trail head is never deleted')""",
    ),
}


def upgrade():
    op.create_table('administration_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('data_json', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_administration_events')),
    sa.UniqueConstraint('seq', name=op.f('uq_administration_events_seq'))
    )
    with op.batch_alter_table('administration_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_administration_events_subject'), ['subject'], unique=False)

    trail = op.create_table('administration_trail',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('head_seq', sa.Integer(), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_administration_trail_one_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_administration_trail'))
    )
    op.bulk_insert(trail, [{'id': 1, 'head_seq': 0, 'head_hash': GENESIS}])
    if op.get_bind().dialect.name == "postgresql":
        for _, statement in POSTGRESQL_TRIGGERS.values():
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS.values():
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name, (table, _) in POSTGRESQL_TRIGGERS.items():
            op.execute(f"DROP TRIGGER {name} ON {table}")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table('administration_trail')
    with op.batch_alter_table('administration_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_administration_events_subject'))

    op.drop_table('administration_events')
