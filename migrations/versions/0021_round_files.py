"""A closed round's ballot file frozen with its results, and the SHA-256 of both (issue 14)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("voting_rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ballots_file", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("ballots_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("results_sha256", sa.String(length=64), nullable=True))


def downgrade():
    # Lossless: a closed round's frozen file is made from its ballots, which stay (downloads
    # rebuild it from them), and its two hashes stay in the round's close entry of the audit log.
    with op.batch_alter_table("voting_rounds", schema=None) as batch_op:
        batch_op.drop_column("results_sha256")
        batch_op.drop_column("ballots_sha256")
        batch_op.drop_column("ballots_file")
