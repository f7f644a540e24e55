"""Release packets of public-records requests.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'release_packets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('cases_json', sa.Text(), nullable=False),
        sa.Column('withholdings_json', sa.Text(), nullable=False),
        sa.Column('released_by', sa.String(length=64), nullable=False),
        sa.Column('released_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['case_id'], ['cases.id'], name=op.f('fk_release_packets_case_id_cases')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_release_packets')),
        sa.UniqueConstraint('case_id', 'seq', name=op.f('uq_release_packets_case_id')),
    )
    with op.batch_alter_table('release_packets', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_release_packets_case_id'), ['case_id'], unique=False
        )


def downgrade():
    with op.batch_alter_table('release_packets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_release_packets_case_id'))
    op.drop_table('release_packets')
