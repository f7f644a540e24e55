"""Single sign-on: the provider's identities linked to Casework users.

One row per (issuer, subject) the provider names a person by, linked to one user at their
first sign-on by a verified e-mail address, and found by it from then on.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sign_on_identities',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('issuer', sa.String(length=500), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('linked_at', sa.DateTime(), nullable=False),
        sa.Column('last_used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'], name=op.f('fk_sign_on_identities_user_id_users')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_on_identities')),
        sa.UniqueConstraint('issuer', 'subject', name=op.f('uq_sign_on_identities_issuer')),
    )
    with op.batch_alter_table('sign_on_identities', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_sign_on_identities_user_id'), ['user_id'], unique=False
        )


def downgrade():
    with op.batch_alter_table('sign_on_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_on_identities_user_id'))
    op.drop_table('sign_on_identities')
