"""Voting rounds remember their announcement and reminder

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 05:59:57.119541

"""
from alembic import op
import sqlalchemy as sa

from data_loss import count, refuse_data_loss


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('voting_rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opening_announced_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reminder_sent_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    refuse_data_loss('0008', {
        'voting rounds already announced or reminded (a later upgrade would email members again)':
            count('voting_rounds', 'opening_announced_at IS NOT NULL OR reminder_sent_at IS NOT NULL'),
    })
    with op.batch_alter_table('voting_rounds', schema=None) as batch_op:
        batch_op.drop_column('reminder_sent_at')
        batch_op.drop_column('opening_announced_at')
