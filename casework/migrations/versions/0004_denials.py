"""Denials of access end: a duration or permanent, a review date, and restoring access; people
get a separation date (an account administrator who left needs replacing).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('separated_on', sa.Date(), nullable=True))
    with op.batch_alter_table('denied_authors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('until', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('review_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('lifted_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('lifted_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('lifted_by_case_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_denied_authors_lifted_by_id_users'), 'users', ['lifted_by_id'], ['id']
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_denied_authors_lifted_by_case_id_cases'), 'cases', ['lifted_by_case_id'], ['id']
        )
        # An author may be denied again after a denial ends; one in force at a time is kept by
        # the application, which holds the account case's lock while it checks.
        batch_op.drop_constraint('uq_denied_authors_account_case_id', type_='unique')
        batch_op.create_index('ix_denied_authors_account', ['account_case_id', 'author'], unique=False)


def downgrade():
    with op.batch_alter_table('denied_authors', schema=None) as batch_op:
        batch_op.drop_index('ix_denied_authors_account')
        batch_op.create_unique_constraint('uq_denied_authors_account_case_id', ['account_case_id', 'author'])
        batch_op.drop_constraint(batch_op.f('fk_denied_authors_lifted_by_case_id_cases'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_denied_authors_lifted_by_id_users'), type_='foreignkey')
        batch_op.drop_column('lifted_by_case_id')
        batch_op.drop_column('lifted_by_id')
        batch_op.drop_column('lifted_at')
        batch_op.drop_column('review_on')
        batch_op.drop_column('until')
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_column('separated_on')
