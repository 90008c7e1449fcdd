"""understanding misses: typed messages not understood, for the learning loop

One row per message the assistant did not understand confidently (no intent above the
fallback threshold), with what it suggested instead and what the user then chose. Never
written for private or sensitive messages; erased with the contact's data.

Revision ID: 0006_understanding_misses
Revises: 0005_outbox_lease
Create Date: 2026-12-03 19:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006_understanding_misses'
down_revision = '0005_outbox_lease'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'understanding_misses',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('created_at', _TS, nullable=False),
        sa.Column('contact_id', sa.String(length=32), nullable=True),
        sa.Column('channel', sa.String(length=16), nullable=True),
        sa.Column('language', sa.String(length=8), nullable=True),
        sa.Column('country', sa.String(length=2), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('intent', sa.String(length=64), nullable=True),
        sa.Column('confidence', sa.Float(), nullable=True),
        sa.Column('suggested', sa.JSON(), nullable=True),
        sa.Column('chosen', sa.String(length=64), nullable=True),
        sa.Column('chosen_at', _TS, nullable=True),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_understanding_misses_contact_id', 'understanding_misses',
                    ['contact_id'], unique=False)
    op.create_index('ix_understanding_misses_created_at', 'understanding_misses',
                    ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_understanding_misses_created_at', table_name='understanding_misses')
    op.drop_index('ix_understanding_misses_contact_id', table_name='understanding_misses')
    op.drop_table('understanding_misses')
