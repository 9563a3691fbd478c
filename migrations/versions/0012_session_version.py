"""Sessions that can be ended: users.session_version, raised on log-out, a password change or
reset and "log out everywhere"; users.pending_email, a new address awaiting confirmation (issue 13)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-10
"""
from alembic import op
import sqlalchemy as sa

from data_loss import count, refuse_data_loss


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('session_version', sa.Integer(), server_default='1', nullable=False)
        )
        batch_op.add_column(sa.Column('pending_email', sa.String(length=254), nullable=True))


def downgrade():
    refuse_data_loss('0012', {
        'email address changes awaiting confirmation': count('users', 'pending_email IS NOT NULL'),
        "members' ended sessions (session_version; a later upgrade would let those sessions in again)":
            count('users', 'session_version <> 1'),
    })
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('pending_email')
        batch_op.drop_column('session_version')
