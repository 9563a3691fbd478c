"""Membership: applications, reviews, messages, invitations, settings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 04:15:27.046904

"""
from alembic import op
import sqlalchemy as sa

from data_loss import count, refuse_data_loss


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('site_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_mode', sa.Enum('application', 'open', name='registration_mode', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('applications_open_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('applications_close_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('applications_timezone', sa.String(length=64), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_site_settings_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_settings'))
    )
    op.create_table('account_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('set_password', name='token_purpose', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_account_tokens_token_hash'))
    )
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('full_name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('institution', sa.String(length=200), nullable=False),
    sa.Column('position', sa.String(length=120), nullable=False),
    sa.Column('department', sa.String(length=200), nullable=False),
    sa.Column('disciplines_other', sa.String(length=200), nullable=False),
    sa.Column('ai_experience', sa.Text(), nullable=False),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('homepage', sa.String(length=500), nullable=False),
    sa.Column('orcid', sa.String(length=19), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('state', sa.Enum('submitted', 'info_requested', 'approved', 'rejected', 'withdrawn', name='application_state', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('email = lower(email)', name=op.f('ck_applications_email_lowercase')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_applications_decided_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_applications_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applications')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_applications_token_hash'))
    )
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index('ix_applications_institution', ['institution'], unique=False)
        batch_op.create_index('ix_applications_state_submitted_at', ['state', 'submitted_at'], unique=False)
        batch_op.create_index('uq_applications_pending_email', ['email'], unique=True, sqlite_where=sa.text("state IN ('submitted', 'info_requested')"), postgresql_where=sa.text("state IN ('submitted', 'info_requested')"))

    op.create_table('application_disciplines',
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('discipline', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_application_disciplines_application_id_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('application_id', 'discipline', name=op.f('pk_application_disciplines'))
    )
    with op.batch_alter_table('application_disciplines', schema=None) as batch_op:
        batch_op.create_index('ix_application_disciplines_discipline', ['discipline'], unique=False)

    op.create_table('application_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_application_messages_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_application_messages_author_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application_messages'))
    )
    with op.batch_alter_table('application_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_messages_application_id'), ['application_id'], unique=False)

    op.create_table('application_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('relevance', sa.Integer(), nullable=False),
    sa.Column('relevance_comment', sa.Text(), nullable=False),
    sa.Column('fit', sa.Integer(), nullable=False),
    sa.Column('fit_comment', sa.Text(), nullable=False),
    sa.Column('breadth', sa.Integer(), nullable=False),
    sa.Column('breadth_comment', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('relevance BETWEEN 1 AND 5 AND fit BETWEEN 1 AND 5 AND breadth BETWEEN 1 AND 5', name=op.f('ck_application_reviews_scores_in_range')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_application_reviews_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_application_reviews_reviewer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application_reviews')),
    sa.UniqueConstraint('application_id', 'reviewer_id', name='uq_application_reviews_reviewer')
    )
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_members_only', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('position', sa.String(length=120), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('orcid', sa.String(length=19), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('homepage', sa.String(length=500), nullable=False, server_default=''))


def downgrade():
    refuse_data_loss('0003', {
        'membership applications': count('applications'),
        'messages on applications': count('application_messages'),
        'reviews of applications': count('application_reviews'),
        'set-password links not yet used': count('account_tokens', 'used_at IS NULL'),
        'site settings changed from the defaults (registration mode, application dates)': count(
            'site_settings',
            "registration_mode <> 'application' OR applications_open_at IS NOT NULL"
            " OR applications_close_at IS NOT NULL OR applications_timezone <> 'UTC'",
        ),
        "members' positions, ORCID iDs or homepages": count(
            'users', "position <> '' OR orcid <> '' OR homepage <> ''"
        ),
        'members-only topic areas': count('categories', 'is_members_only = true'),
    })
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('homepage')
        batch_op.drop_column('orcid')
        batch_op.drop_column('position')

    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_column('is_members_only')

    op.drop_table('application_reviews')
    with op.batch_alter_table('application_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_messages_application_id'))

    op.drop_table('application_messages')
    with op.batch_alter_table('application_disciplines', schema=None) as batch_op:
        batch_op.drop_index('ix_application_disciplines_discipline')

    op.drop_table('application_disciplines')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('uq_applications_pending_email', sqlite_where=sa.text("state IN ('submitted', 'info_requested')"), postgresql_where=sa.text("state IN ('submitted', 'info_requested')"))
        batch_op.drop_index('ix_applications_state_submitted_at')
        batch_op.drop_index('ix_applications_institution')

    op.drop_table('applications')
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_tokens_user_id'))

    op.drop_table('account_tokens')
    op.drop_table('site_settings')
