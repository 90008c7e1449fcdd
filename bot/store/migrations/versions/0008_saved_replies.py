"""saved replies: the dashboard's replies per organisation and language

Revision ID: 0008_saved_replies
Revises: 0007_dashboard
Create Date: 2026-12-03 19:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008_saved_replies'
down_revision = '0007_dashboard'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'saved_replies',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('organisation_id', sa.String(length=32), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('title', sa.String(length=80), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('updated_by', sa.String(length=64), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['dashboard_organisations.id'],
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_saved_replies_organisation_id', 'saved_replies', ['organisation_id'])


def downgrade() -> None:
    op.drop_index('ix_saved_replies_organisation_id', table_name='saved_replies')
    op.drop_table('saved_replies')
