"""Notifications and email: watching, preferences, digest and batch ledgers

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 05:16:42.468663

"""
from alembic import op
import sqlalchemy as sa

from data_loss import count, refuse_data_loss


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('digest_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=20), nullable=False),
    sa.Column('covers_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('covers_to', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'failed', name='delivery_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_digest_deliveries_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_deliveries')),
    sa.UniqueConstraint('user_id', 'period', name='uq_digest_deliveries_user_period')
    )
    with op.batch_alter_table('digest_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_digest_deliveries_due', ['status', 'next_attempt_at'], unique=False)

    op.create_table('notification_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('upto_notification_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'failed', name='batch_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_batches_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_batches')),
    sa.UniqueConstraint('user_id', 'upto_notification_id', name='uq_notification_batches_user_upto')
    )
    with op.batch_alter_table('notification_batches', schema=None) as batch_op:
        batch_op.create_index('ix_notification_batches_due', ['status', 'next_attempt_at'], unique=False)

    op.create_table('subscriptions',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('target_type', sa.String(length=10), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Enum('watching', 'normal', 'muted', name='watch_level', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_subscriptions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'target_type', 'target_id', name=op.f('pk_subscriptions'))
    )
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.create_index('ix_subscriptions_target', ['target_type', 'target_id', 'level'], unique=False)

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('batch_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_notifications_batch_id_notification_batches'), 'notification_batches', ['batch_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_immediate', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('digest_frequency', sa.String(length=10), nullable=False, server_default='weekly'))
        batch_op.add_column(sa.Column('digest_hour', sa.Integer(), nullable=False, server_default='8'))
        batch_op.add_column(sa.Column('digest_weekday', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('auto_watch', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade():
    refuse_data_loss('0007', {
        "members' email settings changed from the defaults": count(
            'users',
            "email_immediate = false OR digest_frequency <> 'weekly' OR digest_hour <> 8"
            " OR digest_weekday <> 0 OR auto_watch = false",
        ),
        'subscriptions (topics and areas watched or muted)': count('subscriptions'),
        'notification emails sent or waiting (a later upgrade would send them again)': count(
            'notification_batches'
        ),
        'digests sent or waiting (a later upgrade would send them again)': count(
            'digest_deliveries'
        ),
    })
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('auto_watch')
        batch_op.drop_column('digest_weekday')
        batch_op.drop_column('digest_hour')
        batch_op.drop_column('digest_frequency')
        batch_op.drop_column('email_immediate')

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notifications_batch_id_notification_batches'), type_='foreignkey')
        batch_op.drop_column('batch_id')

    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_subscriptions_target')

    op.drop_table('subscriptions')
    with op.batch_alter_table('notification_batches', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_batches_due')

    op.drop_table('notification_batches')
    with op.batch_alter_table('digest_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_digest_deliveries_due')

    op.drop_table('digest_deliveries')
