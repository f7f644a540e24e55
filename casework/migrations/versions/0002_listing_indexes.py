"""Indexes for lists, counts and search at 100,000 cases.

The listing indexes carry the columns visibility is decided on (workflow, reporter, subject), so
a count of what a user may see, or the ids of a page deep in a list, come from an index alone;
the branch and reporter indexes carry the list's order; on SQLite, the index a search's matches
are checked against carries their order and the commonest filters.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

VISIBILITY = ['workflow_key', 'reporter_id', 'subject_person_id']

#: name -> (columns before, columns after); None: the index is new.
CHANGED = {
    'ix_cases_assignee_listing': (['assignee_id', 'created_at', 'id'], ['assignee_id', 'created_at', 'id', *VISIBILITY]),
    'ix_cases_branch': (['branch'], ['branch', 'created_at', 'id', *VISIBILITY]),
    'ix_cases_due': (['due_at'], ['due_at', *VISIBILITY]),
    'ix_cases_listing': (['created_at', 'id'], ['created_at', 'id', *VISIBILITY]),
    'ix_cases_updated': (None, ['updated_at', 'id', *VISIBILITY]),
    'ix_cases_visibility': (None, VISIBILITY),
    'ix_cases_reporter_listing': (None, ['reporter_id', 'created_at', 'id', 'workflow_key', 'subject_person_id']),
}
#: Made redundant by ix_cases_reporter_listing, which leads with the same column.
REPORTER = ('ix_cases_reporter_id', ['reporter_id'])

SQLITE_SEARCH_INDEX = (
    "CREATE INDEX cases_fts_visibility ON cases "
    "(id, created_at, workflow_key, state, reporter_id, subject_person_id)"
)


def upgrade():
    for name, (before, after) in CHANGED.items():
        if before is not None:
            op.drop_index(name, table_name='cases')
        op.create_index(name, 'cases', after, unique=False)
    op.drop_index(REPORTER[0], table_name='cases')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(SQLITE_SEARCH_INDEX)


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("DROP INDEX cases_fts_visibility")
    op.create_index(REPORTER[0], 'cases', REPORTER[1], unique=False)
    for name, (before, _) in reversed(CHANGED.items()):
        op.drop_index(name, table_name='cases')
        if before is not None:
            op.create_index(name, 'cases', before, unique=False)
