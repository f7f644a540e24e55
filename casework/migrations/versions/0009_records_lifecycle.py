"""The records lifecycle: legal holds, disposal batches, tombstones and erasable event content.

An event stays append-only but for one change: the disposal of its case may erase its data
(`data_json` becomes "{}" and `erased_at` is set, once), keeping its sequence, links and hash.
The database refuses every other change, as before.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

#: What an erasing update may change: only the data, to "{}", and `erased_at`, from nothing.
SQLITE_ERASE_ONLY = """CREATE TRIGGER events_no_update BEFORE UPDATE ON events
   WHEN NOT (old.erased_at IS NULL AND new.erased_at IS NOT NULL AND new.data_json = '{}'
     AND new.id = old.id AND new.case_id = old.case_id AND new.seq = old.seq
     AND new.at IS old.at AND new.actor IS old.actor AND new.action IS old.action
     AND new.from_state IS old.from_state AND new.to_state IS old.to_state
     AND new.prev_hash IS old.prev_hash AND new.hash IS old.hash)
   BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"""
SQLITE_APPEND_ONLY = """CREATE TRIGGER events_no_update BEFORE UPDATE ON events
   BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"""

POSTGRESQL_UPGRADE = [
    """CREATE FUNCTION casework_erase_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL AND NEW.data_json = '{}'
            AND (NEW.id, NEW.case_id, NEW.seq, NEW.at, NEW.actor, NEW.action, NEW.prev_hash,
                 NEW.hash) = (OLD.id, OLD.case_id, OLD.seq, OLD.at, OLD.actor, OLD.action,
                 OLD.prev_hash, OLD.hash)
            AND NEW.from_state IS NOT DISTINCT FROM OLD.from_state
            AND NEW.to_state IS NOT DISTINCT FROM OLD.to_state THEN
           RETURN NEW;
         END IF;
         RAISE EXCEPTION 'UPDATE on events is refused: audit events are append-only';
       END $$""",
    "DROP TRIGGER events_append_only ON events",
    """CREATE TRIGGER events_no_delete BEFORE DELETE ON events
       FOR EACH ROW EXECUTE FUNCTION casework_refuse_change('audit events are append-only')""",
    """CREATE TRIGGER events_erase_only BEFORE UPDATE ON events
       FOR EACH ROW EXECUTE FUNCTION casework_erase_only()""",
]
POSTGRESQL_DOWNGRADE = [
    "DROP TRIGGER events_erase_only ON events",
    "DROP TRIGGER events_no_delete ON events",
    "DROP FUNCTION casework_erase_only()",
    """CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
       FOR EACH ROW EXECUTE FUNCTION casework_refuse_change('audit events are append-only')""",
]


def upgrade():
    op.create_table(
        'disposal_batches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('series', sa.String(length=300), nullable=False),
        sa.Column('schedule', sa.String(length=100), nullable=False),
        sa.Column('numbers_json', sa.Text(), nullable=False),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=False),
        sa.Column('prepared_by_id', sa.Integer(), nullable=False),
        sa.Column('prepared_at', sa.DateTime(), nullable=False),
        sa.Column('certificate', sa.LargeBinary(), nullable=False),
        sa.Column('certificate_sha256', sa.String(length=64), nullable=False),
        sa.Column('wait_until', sa.Date(), nullable=False),
        sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
        sa.Column('confirmed_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ['confirmed_by_id'], ['users.id'],
            name=op.f('fk_disposal_batches_confirmed_by_id_users'),
        ),
        sa.ForeignKeyConstraint(
            ['prepared_by_id'], ['users.id'],
            name=op.f('fk_disposal_batches_prepared_by_id_users'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_disposal_batches')),
    )
    op.create_table(
        'legal_holds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('placed_by_id', sa.Integer(), nullable=False),
        sa.Column('placed_at', sa.DateTime(), nullable=False),
        sa.Column('lifted_by_id', sa.Integer(), nullable=True),
        sa.Column('lifted_at', sa.DateTime(), nullable=True),
        sa.Column('lift_reason', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_legal_holds_case_id_cases')),
        sa.ForeignKeyConstraint(
            ['lifted_by_id'], ['users.id'], name=op.f('fk_legal_holds_lifted_by_id_users')
        ),
        sa.ForeignKeyConstraint(
            ['placed_by_id'], ['users.id'], name=op.f('fk_legal_holds_placed_by_id_users')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_holds')),
    )
    with op.batch_alter_table('legal_holds', schema=None) as batch_op:
        batch_op.create_index('ix_legal_holds_case', ['case_id', 'lifted_at'], unique=False)
    op.create_table(
        'case_disposals',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.Column('disposed_at', sa.DateTime(), nullable=False),
        sa.Column('erased_through', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['batch_id'], ['disposal_batches.id'],
            name=op.f('fk_case_disposals_batch_id_disposal_batches'),
        ),
        sa.ForeignKeyConstraint(
            ['case_id'], ['cases.id'], name=op.f('fk_case_disposals_case_id_cases')
        ),
        sa.PrimaryKeyConstraint('case_id', name=op.f('pk_case_disposals')),
    )
    with op.batch_alter_table('case_disposals', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_case_disposals_batch_id'), ['batch_id'], unique=False
        )
    # Plain ALTER TABLE … ADD COLUMN on both databases: the table's triggers stay as they are.
    op.add_column('events', sa.Column('erased_at', sa.DateTime(), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        for statement in POSTGRESQL_UPGRADE:
            op.execute(statement)
    else:
        op.execute("DROP TRIGGER events_no_update")
        op.execute(SQLITE_ERASE_ONLY)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for statement in POSTGRESQL_DOWNGRADE:
            op.execute(statement)
        op.drop_column('events', 'erased_at')
    else:
        op.execute("DROP TRIGGER events_no_update")
        # In place: rebuilding the table would lose its other triggers.
        op.execute("ALTER TABLE events DROP COLUMN erased_at")
        op.execute(SQLITE_APPEND_ONLY)
    with op.batch_alter_table('case_disposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_disposals_batch_id'))
    op.drop_table('case_disposals')
    with op.batch_alter_table('legal_holds', schema=None) as batch_op:
        batch_op.drop_index('ix_legal_holds_case')
    op.drop_table('legal_holds')
    op.drop_table('disposal_batches')
