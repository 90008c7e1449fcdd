"""follow-up requests: partners, routing rules, requests, their history, consents

Also three contact columns: `sensitive_mode` (the protection flow: keep no text),
`callback_draft` (an encrypted call-back number on its way into a request) and
`erase_requested_at` (the miner asked to erase their data).

Partners and routing rules are loaded from content/partners.yml at run time (bot/store/requests.py),
so changing a partner needs no migration.

Revision ID: 0004_requests
Revises: 0003_channels
Create Date: 2026-11-28 21:05:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0004_requests'
down_revision = '0003_channels'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sensitive_mode', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('callback_draft', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('erase_requested_at', _TS, nullable=True))
    op.create_index('ix_contacts_erase_requested_at', 'contacts', ['erase_requested_at'],
                    unique=False)

    op.create_table(
        'partners',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('notify_kind', sa.String(length=16), nullable=True),
        sa.Column('notify_target', sa.String(length=256), nullable=True),
        sa.Column('protection_notify_kind', sa.String(length=16), nullable=True),
        sa.Column('protection_notify_target', sa.String(length=256), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'routing_rules',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('country', sa.String(length=2), nullable=True),
        sa.Column('category', sa.String(length=32), nullable=True),
        sa.Column('partner_id', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'follow_up_requests',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('reference_code', sa.String(length=12), nullable=False),
        sa.Column('contact_id', sa.String(length=32), nullable=True),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('country', sa.String(length=2), nullable=True),
        sa.Column('cluster', sa.Integer(), nullable=True),
        sa.Column('locality', sa.String(length=120), nullable=True),
        sa.Column('latitude', sa.Float(), nullable=True),
        sa.Column('longitude', sa.Float(), nullable=True),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=True),
        sa.Column('summary', sa.Text(), nullable=True),
        sa.Column('attachments', sa.JSON(), nullable=True),
        sa.Column('callback_consent', sa.Boolean(), nullable=False),
        sa.Column('callback_method', sa.String(length=16), nullable=True),
        sa.Column('callback_contact_encrypted', sa.Text(), nullable=True),
        sa.Column('callback_time', sa.String(length=16), nullable=True),
        sa.Column('sensitive', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('partner_id', sa.String(length=32), nullable=True),
        sa.Column('due_at', _TS, nullable=True),
        sa.Column('partner_message', sa.Text(), nullable=True),
        sa.Column('created_at', _TS, nullable=False),
        sa.Column('updated_at', _TS, nullable=False),
        sa.Column('anonymised_at', _TS, nullable=True),
        sa.Column('notified_at', _TS, nullable=True),
        sa.Column('notify_attempts', sa.Integer(), nullable=False),
        sa.Column('notify_next_at', _TS, nullable=True),
        sa.Column('notify_error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('reference_code'),
    )
    with op.batch_alter_table('follow_up_requests', schema=None) as batch_op:
        batch_op.create_index('ix_follow_up_requests_contact_id', ['contact_id'], unique=False)
        batch_op.create_index('ix_follow_up_requests_notify', ['notified_at', 'notify_next_at'],
                              unique=False)
    op.create_table(
        'request_events',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('request_id', _ID, nullable=False),
        sa.Column('at', _TS, nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('from_status', sa.String(length=16), nullable=True),
        sa.Column('to_status', sa.String(length=16), nullable=True),
        sa.Column('message', sa.Text(), nullable=True),
        sa.Column('actor', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['request_id'], ['follow_up_requests.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('request_events', schema=None) as batch_op:
        batch_op.create_index('ix_request_events_request_id', ['request_id'], unique=False)
    op.create_table(
        'consents',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('contact_id', sa.String(length=32), nullable=False),
        sa.Column('request_id', _ID, nullable=True),
        sa.Column('scope', sa.String(length=32), nullable=False),
        sa.Column('given_at', _TS, nullable=False),
        sa.Column('withdrawn_at', _TS, nullable=True),
        sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['request_id'], ['follow_up_requests.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index('ix_consents_contact_id', ['contact_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index('ix_consents_contact_id')
    op.drop_table('consents')
    with op.batch_alter_table('request_events', schema=None) as batch_op:
        batch_op.drop_index('ix_request_events_request_id')
    op.drop_table('request_events')
    with op.batch_alter_table('follow_up_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_requests_notify')
        batch_op.drop_index('ix_follow_up_requests_contact_id')
    op.drop_table('follow_up_requests')
    op.drop_table('routing_rules')
    op.drop_table('partners')
    op.drop_index('ix_contacts_erase_requested_at', table_name='contacts')
    # Plain DROP COLUMN (SQLite >= 3.35): a batch "recreate" of contacts would drop and rebuild
    # the table, and with foreign keys on, cascade-delete every identity and message.
    for column in ('erase_requested_at', 'callback_draft', 'sensitive_mode'):
        op.execute(f'ALTER TABLE contacts DROP COLUMN {column}')
