"""Research agenda, voting rounds, ballots and the audit log

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 04:57:32.455176

"""
from alembic import op
import sqlalchemy as sa

from data_loss import count, refuse_data_loss


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=80), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('target_type', sa.String(length=30), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('public_details', sa.Text(), nullable=False),
    sa.Column('private_details', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_entries_actor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_entries_hash')),
    sa.UniqueConstraint('seq', name=op.f('uq_audit_entries_seq'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index('ix_audit_entries_target', ['target_type', 'target_id'], unique=False)

    op.create_table('voting_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('opens_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('method', sa.Enum('approval', 'budget', 'ranked', 'quadratic', name='voting_method', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('budget', sa.Integer(), nullable=False),
    sa.Column('per_item_cap', sa.Integer(), nullable=False),
    sa.Column('credits', sa.Integer(), nullable=False),
    sa.Column('show_running_tally', sa.Boolean(), nullable=False),
    sa.Column('late_joiners_may_vote', sa.Boolean(), nullable=False),
    sa.Column('institution_share', sa.Float(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('results_published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('results', sa.JSON(), nullable=True),
    sa.CheckConstraint('budget > 0 AND per_item_cap > 0 AND credits > 0', name=op.f('ck_voting_rounds_positive_limits')),
    sa.CheckConstraint('closes_at > opens_at', name=op.f('ck_voting_rounds_closes_after_opening')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_voting_rounds_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voting_rounds'))
    )
    with op.batch_alter_table('voting_rounds', schema=None) as batch_op:
        batch_op.create_index('ix_voting_rounds_closes_at', ['closes_at'], unique=False)

    op.create_table('agenda_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('area', sa.Enum('privacy', 'safety', 'security', 'model-improvement', 'other', name='agenda_area', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'on_ballot', 'prioritised', 'in_progress', 'addressed', 'declined', name='agenda_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('proposer_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['proposer_id'], ['users.id'], name=op.f('fk_agenda_items_proposer_id_users')),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_agenda_items_topic_id_topics')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agenda_items')),
    sa.UniqueConstraint('topic_id', name=op.f('uq_agenda_items_topic_id'))
    )
    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.create_index('ix_agenda_items_status_area', ['status', 'area'], unique=False)

    op.create_table('ballots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('receipt', sa.String(length=64), nullable=False),
    sa.Column('institution', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['voting_rounds.id'], name=op.f('fk_ballots_round_id_voting_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_ballots_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballots')),
    sa.UniqueConstraint('public_id', name=op.f('uq_ballots_public_id')),
    sa.UniqueConstraint('round_id', 'user_id', name='uq_ballots_round_user')
    )
    op.create_table('agenda_evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['agenda_items.id'], name=op.f('fk_agenda_evidence_item_id_agenda_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agenda_evidence'))
    )
    with op.batch_alter_table('agenda_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agenda_evidence_item_id'), ['item_id'], unique=False)

    op.create_table('agenda_status_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.Enum('proposed', 'on_ballot', 'prioritised', 'in_progress', 'addressed', 'declined', name='from_status', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('to_status', sa.Enum('proposed', 'on_ballot', 'prioritised', 'in_progress', 'addressed', 'declined', name='to_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_agenda_status_changes_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['agenda_items.id'], name=op.f('fk_agenda_status_changes_item_id_agenda_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agenda_status_changes'))
    )
    with op.batch_alter_table('agenda_status_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agenda_status_changes_item_id'), ['item_id'], unique=False)

    op.create_table('ballot_entries',
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.CheckConstraint('value > 0', name=op.f('ck_ballot_entries_positive_value')),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballots.id'], name=op.f('fk_ballot_entries_ballot_id_ballots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['agenda_items.id'], name=op.f('fk_ballot_entries_item_id_agenda_items')),
    sa.PrimaryKeyConstraint('ballot_id', 'item_id', name=op.f('pk_ballot_entries'))
    )
    op.create_table('round_items',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['agenda_items.id'], name=op.f('fk_round_items_item_id_agenda_items')),
    sa.ForeignKeyConstraint(['round_id'], ['voting_rounds.id'], name=op.f('fk_round_items_round_id_voting_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'item_id', name=op.f('pk_round_items'))
    )
    op.create_table('round_results',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('supporters', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['agenda_items.id'], name=op.f('fk_round_results_item_id_agenda_items')),
    sa.ForeignKeyConstraint(['round_id'], ['voting_rounds.id'], name=op.f('fk_round_results_round_id_voting_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'item_id', name=op.f('pk_round_results'))
    )
    with op.batch_alter_table('round_results', schema=None) as batch_op:
        batch_op.create_index('ix_round_results_item_id', ['item_id'], unique=False)


def downgrade():
    refuse_data_loss('0005', {
        'audit log entries': count('audit_entries'),
        'agenda items': count('agenda_items'),
        'evidence links on agenda items': count('agenda_evidence'),
        'agenda status changes': count('agenda_status_changes'),
        'voting rounds': count('voting_rounds'),
        'agenda items on ballots of rounds': count('round_items'),
        'ballots': count('ballots'),
        'ballot entries': count('ballot_entries'),
        'published round results': count('round_results'),
    })
    with op.batch_alter_table('round_results', schema=None) as batch_op:
        batch_op.drop_index('ix_round_results_item_id')

    op.drop_table('round_results')
    op.drop_table('round_items')
    op.drop_table('ballot_entries')
    with op.batch_alter_table('agenda_status_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agenda_status_changes_item_id'))

    op.drop_table('agenda_status_changes')
    with op.batch_alter_table('agenda_evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agenda_evidence_item_id'))

    op.drop_table('agenda_evidence')
    op.drop_table('ballots')
    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.drop_index('ix_agenda_items_status_area')

    op.drop_table('agenda_items')
    with op.batch_alter_table('voting_rounds', schema=None) as batch_op:
        batch_op.drop_index('ix_voting_rounds_closes_at')

    op.drop_table('voting_rounds')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_target')
        batch_op.drop_index(batch_op.f('ix_audit_entries_actor_id'))

    op.drop_table('audit_entries')
