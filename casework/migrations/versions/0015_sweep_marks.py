"""Indexes of the sweep's marks on cases: reminders sent, and watches' flags.

Every sweep asks, of each overdue open case, whether it was already reminded in its state, and
of each watched case (every active social media account) what its watches last recorded. Without
these indexes each answer read every event of the case: at 1M cases, 117,000 overdue cases and
13,000 active accounts made those reads most of the sweep's time.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

REMINDED = "action = 'overdue'"
FLAGGED = "action IN ('flagged', 'flag_cleared')"


def upgrade():
    op.create_index(
        "ix_events_reminded",
        "events",
        ["case_id", "at"],
        postgresql_where=sa.text(REMINDED),
        sqlite_where=sa.text(REMINDED),
    )
    op.create_index(
        "ix_events_flags",
        "events",
        ["case_id", "seq"],
        postgresql_where=sa.text(FLAGGED),
        sqlite_where=sa.text(FLAGGED),
    )


def downgrade():
    op.drop_index("ix_events_flags", table_name="events")
    op.drop_index("ix_events_reminded", table_name="events")
