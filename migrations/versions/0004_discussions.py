"""Discussions: votes, accepted answers, tags, resources, read state, handles, notifications

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 04:27:12.955629

"""
import re

from alembic import op
import sqlalchemy as sa

from data_loss import count, refuse_data_loss


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('topic_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tags')),
    sa.UniqueConstraint('slug', name=op.f('uq_tags_slug'))
    )
    op.create_table('topic_reads',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('last_read_number', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_topic_reads_topic_id_topics'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_topic_reads_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'topic_id', name=op.f('pk_topic_reads'))
    )
    op.create_table('topic_resource_keys',
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=2100), nullable=False),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_topic_resource_keys_topic_id_topics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('topic_id', 'key', name=op.f('pk_topic_resource_keys'))
    )
    with op.batch_alter_table('topic_resource_keys', schema=None) as batch_op:
        batch_op.create_index('ix_topic_resource_keys_key', ['key'], unique=False)

    op.create_table('topic_tags',
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_topic_tags_tag_id_tags'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_topic_tags_topic_id_topics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('topic_id', 'tag_id', name=op.f('pk_topic_tags'))
    )
    with op.batch_alter_table('topic_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_topic_tags_tag_id'), ['tag_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('mention', name='notification_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('post_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dedupe_key', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_notifications_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_notifications_post_id_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_notifications_topic_id_topics'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('user_id', 'dedupe_key', name='uq_notifications_user_dedupe')
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_unread', ['user_id', 'read_at', 'created_at'], unique=False)

    op.create_table('post_votes',
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_votes_post_id_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_post_votes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('post_id', 'user_id', name=op.f('pk_post_votes'))
    )
    with op.batch_alter_table('post_votes', schema=None) as batch_op:
        batch_op.create_index('ix_post_votes_user_id', ['user_id'], unique=False)

    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vote_count', sa.Integer(), nullable=False, server_default='0'))

    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vote_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('accepted_post_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('resource_url', sa.String(length=2000), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('doi', sa.String(length=300), nullable=False, server_default=''))
        batch_op.create_index('ix_topics_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_topics_vote_count', ['vote_count'], unique=False)
        batch_op.create_foreign_key('fk_topics_accepted_post_id_posts', 'posts', ['accepted_post_id'], ['id'])

    # Existing members get a handle from their email's local part (made unique with a number).
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('handle', sa.String(length=30), nullable=True))
    connection = op.get_bind()
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('email', sa.String),
                     sa.column('handle', sa.String))
    taken = set()
    for user_id, email in connection.execute(sa.select(users.c.id, users.c.email).order_by(users.c.id)):
        base = re.sub(r'[^a-z0-9_.-]+', '', email.split('@')[0].lower()).strip('._-')[:24] or 'member'
        if len(base) < 2:
            base = 'member'
        handle, n = base, 2
        while handle in taken:
            handle, n = f'{base}{n}', n + 1
        taken.add(handle)
        connection.execute(users.update().where(users.c.id == user_id).values(handle=handle))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('handle', existing_type=sa.String(length=30), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_users_handle'), ['handle'])

    # The similar-topics index (forum/services/search.py).
    op.create_table('topic_terms',
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('term', sa.String(length=64), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_topic_terms_topic_id_topics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('topic_id', 'term', name=op.f('pk_topic_terms'))
    )
    with op.batch_alter_table('topic_terms', schema=None) as batch_op:
        batch_op.create_index('ix_topic_terms_term_topic_weight', ['term', 'topic_id', 'weight'], unique=False)


def downgrade():
    # Not counted, because they are derived and made again: users.handle (from the email, by
    # upgrade()), vote counts (from post_votes), topic_terms (`flask search reindex`) and
    # topic_resource_keys (from resource_url).
    refuse_data_loss('0004', {
        'notifications': count('notifications'),
        'votes on posts': count('post_votes'),
        'tags': count('tags'),
        'tags on topics': count('topic_tags'),
        "members' reading positions in topics": count('topic_reads'),
        'accepted answers': count('topics', 'accepted_post_id IS NOT NULL'),
        "resources' links or DOIs": count('topics', "resource_url <> '' OR doi <> ''"),
    })
    with op.batch_alter_table('topic_terms', schema=None) as batch_op:
        batch_op.drop_index('ix_topic_terms_term_topic_weight')

    op.drop_table('topic_terms')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_handle'), type_='unique')
        batch_op.drop_column('handle')

    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.drop_constraint('fk_topics_accepted_post_id_posts', type_='foreignkey')
        batch_op.drop_index('ix_topics_vote_count')
        batch_op.drop_index('ix_topics_created_at')
        batch_op.drop_column('doi')
        batch_op.drop_column('resource_url')
        batch_op.drop_column('accepted_post_id')
        batch_op.drop_column('vote_count')

    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_column('vote_count')

    with op.batch_alter_table('post_votes', schema=None) as batch_op:
        batch_op.drop_index('ix_post_votes_user_id')

    op.drop_table('post_votes')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_unread')

    op.drop_table('notifications')
    with op.batch_alter_table('topic_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_topic_tags_tag_id'))

    op.drop_table('topic_tags')
    with op.batch_alter_table('topic_resource_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_topic_resource_keys_key')

    op.drop_table('topic_resource_keys')
    op.drop_table('topic_reads')
    op.drop_table('tags')
