"""requests: an index on created_at (the dashboard's date filters and reports)

At 100,000 requests, a one-month date filter took 270 ms on SQLite scanning the due-date
index; with this index the planner reads only that month's rows.

Revision ID: 0009_requests_created_index
Revises: 0008_saved_replies
Create Date: 2026-12-03 20:00:00
"""
from alembic import op

revision = '0009_requests_created_index'
down_revision = '0008_saved_replies'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_follow_up_requests_created_at', 'follow_up_requests', ['created_at'])


def downgrade() -> None:
    op.drop_index('ix_follow_up_requests_created_at', table_name='follow_up_requests')
