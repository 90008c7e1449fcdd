"""conversation_states: the dialogue's state of each contact, in the app's database

Rasa serves only the NLU model; the dialogue runs in the app and keeps what it remembers of a
conversation here instead of in Rasa's tracker store.

Revision ID: 0010_conversation_states
Revises: 0009_requests_created_index
Create Date: 2026-12-03 22:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0010_conversation_states'
down_revision = '0009_requests_created_index'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'conversation_states',
        sa.Column('contact_id', sa.String(length=32), nullable=False),
        sa.Column('slots', sa.JSON(), nullable=False),
        sa.Column('last_user_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('contact_id'),
    )


def downgrade() -> None:
    op.drop_table('conversation_states')
