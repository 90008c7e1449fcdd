"""outbox lease: which worker is sending a reply

A worker claims a reply before sending it (`lease_owner`, with `next_attempt_at` as the lease's
end), so that several app processes sharing one database never send the same reply twice, and a
restarted worker can free at once the replies a crashed one had claimed.

Revision ID: 0005_outbox_lease
Revises: 0004_requests
Create Date: 2026-12-03 07:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005_outbox_lease'
down_revision = '0004_requests'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE, not a batch "recreate" (which, with SQLite's foreign keys on, would
    # rebuild the table; see 0004).
    op.add_column('outbox', sa.Column('lease_owner', sa.String(length=64), nullable=True))
    op.create_index('ix_outbox_lease_owner', 'outbox', ['lease_owner'], unique=False)
    op.create_index('ix_outbox_contact_pending', 'outbox', ['contact_id', 'status', 'id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_outbox_contact_pending', table_name='outbox')
    op.drop_index('ix_outbox_lease_owner', table_name='outbox')
    op.drop_column('outbox', 'lease_owner')  # SQLite >= 3.35
