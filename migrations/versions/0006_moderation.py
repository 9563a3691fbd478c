"""Moderation: flags, hidden posts, first-post review, suspensions, curation, restricted topics

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 05:04:39.639792

"""
from alembic import op
import sqlalchemy as sa

from data_loss import count, refuse_data_loss


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('topic_access',
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_topic_access_topic_id_topics'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_topic_access_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('topic_id', 'user_id', name=op.f('pk_topic_access'))
    )
    op.create_table('flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Enum('off_topic', 'spam', 'harassment', 'misinformation', 'other', name='flag_reason', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolution', sa.String(length=30), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_flags_post_id_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_flags_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flags')),
    sa.UniqueConstraint('post_id', 'user_id', name='uq_flags_post_user')
    )
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.create_index('ix_flags_open', ['resolved_at', 'post_id'], unique=False)

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message', sa.Text(), nullable=False, server_default=''))

    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('hidden_reason', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('awaiting_review', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('site_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flag_threshold', sa.Integer(), nullable=False, server_default='3'))
        batch_op.add_column(sa.Column('first_post_review', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('first_posts_reviewed', sa.Integer(), nullable=False, server_default='2'))

    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_pinned_globally', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('lock_note', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('featured_summary', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('duplicate_of_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('is_restricted', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('embargo_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key('fk_topics_merged_into_id_topics', 'topics', ['merged_into_id'], ['id'])
        batch_op.create_foreign_key('fk_topics_duplicate_of_id_topics', 'topics', ['duplicate_of_id'], ['id'])

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('suspension_reason', sa.Text(), nullable=False, server_default=''))


def downgrade():
    refuse_data_loss('0006', {
        'flags (reports of posts)': count('flags'),
        'people let into restricted topics (topic_access)': count('topic_access'),
        'hidden posts (they would show again)': count('posts', 'hidden_at IS NOT NULL'),
        'posts awaiting review (they would show at once)': count('posts', 'awaiting_review = true'),
        'restricted or embargoed topics (they would open to every reader)': count(
            'topics', 'is_restricted = true OR embargo_until IS NOT NULL'
        ),
        'merged or duplicate topics (their links to the topic they joined)': count(
            'topics', 'merged_into_id IS NOT NULL OR duplicate_of_id IS NOT NULL'
        ),
        "topics' forum-wide pins, lock notes or featured summaries": count(
            'topics', "is_pinned_globally = true OR lock_note <> '' OR featured_summary <> ''"
        ),
        'suspensions (their end and reason)': count(
            'users', "suspended_until IS NOT NULL OR suspension_reason <> ''"
        ),
        'messages written into notifications': count('notifications', "message <> ''"),
        'moderation settings changed from the defaults': count(
            'site_settings',
            'flag_threshold <> 3 OR first_post_review = true OR first_posts_reviewed <> 2',
        ),
    })
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('suspension_reason')
        batch_op.drop_column('suspended_until')

    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.drop_constraint('fk_topics_duplicate_of_id_topics', type_='foreignkey')
        batch_op.drop_constraint('fk_topics_merged_into_id_topics', type_='foreignkey')
        batch_op.drop_column('embargo_until')
        batch_op.drop_column('is_restricted')
        batch_op.drop_column('merged_into_id')
        batch_op.drop_column('duplicate_of_id')
        batch_op.drop_column('featured_summary')
        batch_op.drop_column('lock_note')
        batch_op.drop_column('is_pinned_globally')

    with op.batch_alter_table('site_settings', schema=None) as batch_op:
        batch_op.drop_column('first_posts_reviewed')
        batch_op.drop_column('first_post_review')
        batch_op.drop_column('flag_threshold')

    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_column('awaiting_review')
        batch_op.drop_column('hidden_reason')
        batch_op.drop_column('hidden_at')

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('message')

    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.drop_index('ix_flags_open')

    op.drop_table('flags')
    op.drop_table('topic_access')
