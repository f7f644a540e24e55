"""How many cases there are of each workflow, state, branch, assigned or not, open or closed,
with a due date or without, kept by the database.

Every list answers with how many cases match in all. For a list of the whole collection that was
a count of an index entry per case the reader may see: 5-8 ms at 100,000 cases on PostgreSQL,
about 40 ms at 1,000,000 on either database, and 35 ms for a branch's or the unassigned cases.
These rows hold the same counts, about a hundred of them at 1,000,000 cases. Triggers keep them
in the very transaction that opens a case or changes what it is counted by, whoever writes it:
the application, a bulk import, SQL typed by hand.

On PostgreSQL the triggers are deferred to the commit, so that a tally's row stays locked only
while the transaction commits. Every transaction that opens or moves a case has by then taken
the log's head (its leaf), so writers reach the tallies one at a time and never deadlock on
them.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

#: What a case is counted by, from its row (`OLD` or `NEW`).
KEY = (
    "{row}.workflow_key, {row}.state, coalesce({row}.branch, ''), "
    "{row}.assignee_id IS NULL, {row}.closed_at IS NULL, {row}.due_at IS NOT NULL"
)
COLUMNS = "workflow_key, state, branch, unassigned, open, due"
#: Adds each row's count to its tally (one statement: a moved case's two rows). SQLite's
#: triggers may not name the table's row, as PostgreSQL must.
ADD = """INSERT INTO case_tallies ({columns}, cases) VALUES {rows}
         ON CONFLICT ({columns}) DO UPDATE SET cases = {table}cases + excluded.cases"""
OPENED = f"({KEY.format(row='NEW')}, 1)"
MOVED = f"({KEY.format(row='OLD')}, -1), ({KEY.format(row='NEW')}, 1)"
WATCHED = "workflow_key, state, branch, assignee_id, closed_at, due_at"
#: Whether an update changed what the case is counted by.
CHANGED = " OR ".join(
    f"(OLD.{column} IS NULL) <> (NEW.{column} IS NULL)"
    if column in ("assignee_id", "closed_at", "due_at")
    else f"OLD.{column} IS DISTINCT FROM NEW.{column}"
    for column in WATCHED.split(", ")
)

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER case_tallies_insert AFTER INSERT ON cases
        BEGIN {ADD.format(columns=COLUMNS, rows=OPENED, table="")}; END""",
    f"""CREATE TRIGGER case_tallies_update AFTER UPDATE OF {WATCHED} ON cases
        WHEN {CHANGED.replace("IS DISTINCT FROM", "IS NOT")}
        BEGIN {ADD.format(columns=COLUMNS, rows=MOVED, table="")}; END""",
]

POSTGRESQL_STATEMENTS = [
    f"""CREATE FUNCTION casework_tally_cases() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'UPDATE' THEN
            {ADD.format(columns=COLUMNS, rows=MOVED, table="case_tallies.")};
          ELSE
            {ADD.format(columns=COLUMNS, rows=OPENED, table="case_tallies.")};
          END IF;
          RETURN NULL;
        END $$""",
    """CREATE CONSTRAINT TRIGGER case_tallies_insert AFTER INSERT ON cases
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION casework_tally_cases()""",
    f"""CREATE CONSTRAINT TRIGGER case_tallies_update AFTER UPDATE OF {WATCHED}
       ON cases DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ({CHANGED})
       EXECUTE FUNCTION casework_tally_cases()""",
]

#: The tallies of the cases already there.
FILL = (
    f"INSERT INTO case_tallies ({COLUMNS}, cases) "  # nosec B608 # this module's constants alone
    f"SELECT {KEY.format(row='cases')}, count(*) FROM cases GROUP BY {KEY.format(row='cases')}"
)


def upgrade():
    op.create_table(
        'case_tallies',
        sa.Column('workflow_key', sa.String(length=64), nullable=False),
        sa.Column('state', sa.String(length=64), nullable=False),
        sa.Column('branch', sa.String(length=200), nullable=False),
        sa.Column('unassigned', sa.Boolean(), nullable=False),
        sa.Column('open', sa.Boolean(), nullable=False),
        sa.Column('due', sa.Boolean(), nullable=False),
        sa.Column('cases', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            'workflow_key',
            'state',
            'branch',
            'unassigned',
            'open',
            'due',
            name=op.f('pk_case_tallies'),
        ),
    )
    # A reader who is the subject of cases of a workflow they see whole gets the tally less
    # their own cases: counted from this index alone.
    op.create_index("ix_cases_subject", "cases", ["subject_person_id", "workflow_key", "state"])
    op.drop_index("ix_cases_subject_person_id", table_name="cases")
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        # Nothing writes a case while the tallies are counted and their triggers made.
        op.execute("LOCK TABLE cases IN SHARE MODE")
    op.execute(FILL)
    for statement in POSTGRESQL_STATEMENTS if postgresql else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER case_tallies_update ON cases")
        op.execute("DROP TRIGGER case_tallies_insert ON cases")
        op.execute("DROP FUNCTION casework_tally_cases()")
    else:
        op.execute("DROP TRIGGER case_tallies_update")
        op.execute("DROP TRIGGER case_tallies_insert")
    op.drop_table('case_tallies')
    op.create_index("ix_cases_subject_person_id", "cases", ["subject_person_id"])
    op.drop_index("ix_cases_subject", table_name="cases")
