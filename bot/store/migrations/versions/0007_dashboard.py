"""dashboard: organisations, users, sessions, audit log, notes, assignment, replies

The partners' dashboard (docs/DASHBOARD.md). Also indexes the requests list's keyset order
(due date, id) per partner.

Revision ID: 0007_dashboard
Revises: 0006_understanding_misses
Create Date: 2026-12-03 19:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007_dashboard'
down_revision = '0006_understanding_misses'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'dashboard_organisations',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('oversight', sa.Boolean(), nullable=False),
        sa.Column('clusters', sa.JSON(), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'dashboard_users',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('password_hash', sa.Text(), nullable=False),
        sa.Column('organisation_id', sa.String(length=32), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('demo', sa.Boolean(), nullable=False),
        sa.Column('totp_secret_encrypted', sa.Text(), nullable=True),
        sa.Column('created_at', _TS, nullable=False),
        sa.Column('password_changed_at', _TS, nullable=True),
        sa.Column('last_login_at', _TS, nullable=True),
        sa.ForeignKeyConstraint(['organisation_id'], ['dashboard_organisations.id'],
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('username'),
    )
    op.create_index('ix_dashboard_users_organisation_id', 'dashboard_users',
                    ['organisation_id'])
    op.create_table(
        'dashboard_sessions',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('user_id', _ID, nullable=False),
        sa.Column('created_at', _TS, nullable=False),
        sa.Column('last_seen_at', _TS, nullable=False),
        sa.Column('verified', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['dashboard_users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_dashboard_sessions_user_id', 'dashboard_sessions', ['user_id'])
    op.create_table(
        'dashboard_audit',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('at', _TS, nullable=False),
        sa.Column('user_id', _ID, nullable=True),
        sa.Column('username', sa.String(length=64), nullable=True),
        sa.Column('organisation_id', sa.String(length=32), nullable=True),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('request_code', sa.String(length=12), nullable=True),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.Column('address', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['dashboard_users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_dashboard_audit_at', 'dashboard_audit', ['at'])
    op.create_index('ix_dashboard_audit_request_code', 'dashboard_audit', ['request_code'])
    op.create_table(
        'request_notes',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('request_id', _ID, nullable=False),
        sa.Column('user_id', _ID, nullable=True),
        sa.Column('username', sa.String(length=64), nullable=True),
        sa.Column('at', _TS, nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['request_id'], ['follow_up_requests.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['dashboard_users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_request_notes_request_id', 'request_notes', ['request_id'])
    op.create_table(
        'request_assignments',
        sa.Column('request_id', _ID, nullable=False),
        sa.Column('user_id', _ID, nullable=True),
        sa.Column('assigned_by', sa.String(length=64), nullable=True),
        sa.Column('at', _TS, nullable=False),
        sa.ForeignKeyConstraint(['request_id'], ['follow_up_requests.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['dashboard_users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('request_id'),
    )
    op.create_index('ix_request_assignments_user_id', 'request_assignments', ['user_id'])
    op.create_table(
        'request_replies',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('request_id', _ID, nullable=False),
        sa.Column('outbox_id', _ID, nullable=True),
        sa.Column('user_id', _ID, nullable=True),
        sa.Column('username', sa.String(length=64), nullable=True),
        sa.Column('at', _TS, nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('text', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['request_id'], ['follow_up_requests.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['dashboard_users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_request_replies_request_id', 'request_replies', ['request_id'])
    # The requests list: sorted by due date then id (keyset paging), often per partner.
    op.create_index('ix_follow_up_requests_due', 'follow_up_requests', ['due_at', 'id'])
    op.create_index('ix_follow_up_requests_partner_due', 'follow_up_requests',
                    ['partner_id', 'due_at', 'id'])


def downgrade() -> None:
    op.drop_index('ix_follow_up_requests_partner_due', table_name='follow_up_requests')
    op.drop_index('ix_follow_up_requests_due', table_name='follow_up_requests')
    for table in ('request_replies', 'request_assignments', 'request_notes',
                  'dashboard_audit', 'dashboard_sessions', 'dashboard_users',
                  'dashboard_organisations'):
        op.drop_table(table)
