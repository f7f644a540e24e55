"""For the Board: acting Directors named for dates, and the record of who read the report.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'acting_directors',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('from_day', sa.Date(), nullable=False),
        sa.Column('until_day', sa.Date(), nullable=False),
        sa.Column('starts_at', sa.DateTime(), nullable=False),
        sa.Column('ends_at', sa.DateTime(), nullable=False),
        sa.Column('named_by_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.Column('ended_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint(
            'from_day <= until_day', name=op.f('ck_acting_directors_dates_in_order')
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'], name=op.f('fk_acting_directors_user_id_users')
        ),
        sa.ForeignKeyConstraint(
            ['named_by_id'], ['users.id'], name=op.f('fk_acting_directors_named_by_id_users')
        ),
        sa.ForeignKeyConstraint(
            ['ended_by_id'], ['users.id'], name=op.f('fk_acting_directors_ended_by_id_users')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_acting_directors')),
    )
    with op.batch_alter_table('acting_directors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_acting_directors_user_id'), ['user_id'], unique=False)
    op.create_table(
        'report_reads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('reader', sa.String(length=64), nullable=False),
        sa.Column('report', sa.String(length=32), nullable=False),
        sa.Column('first_month', sa.String(length=7), nullable=False),
        sa.Column('last_month', sa.String(length=7), nullable=False),
        sa.Column('format', sa.String(length=8), nullable=False),
        sa.Column('sections', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_reads')),
    )
    with op.batch_alter_table('report_reads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_reads_at'), ['at'], unique=False)


def downgrade():
    with op.batch_alter_table('report_reads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_reads_at'))
    op.drop_table('report_reads')
    with op.batch_alter_table('acting_directors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_acting_directors_user_id'))
    op.drop_table('acting_directors')
