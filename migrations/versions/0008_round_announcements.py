"""Voting rounds remember their announcement and reminder

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 05:59:57.119541

"""
from alembic import op
import sqlalchemy as sa


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
    with op.batch_alter_table('voting_rounds', schema=None) as batch_op:
        batch_op.drop_column('reminder_sent_at')
        batch_op.drop_column('opening_announced_at')
