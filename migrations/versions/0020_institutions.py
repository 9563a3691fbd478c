"""Institutions as records (issue 14): institutions, their aliases and email domains; users and
applications linked to them; open rounds' ballots grouped by institution key

Every distinct free-text institution in applications and affiliation in users (trimmed; names
equal when compared loosely, as forum.permissions.institution_key does, are one institution
under their most common spelling) becomes an institution: confirmed when a member has it,
proposed when only applications name it. Ballots of rounds whose results are not published yet
get the institution's key ("inst-<id>"); published rounds keep the names their results were
computed with, so their ballot files still verify.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04
"""

from collections import Counter, defaultdict
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from data_loss import count, refuse_data_loss

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# A frozen copy of forum.permissions.institution_key as of this revision.
_ABBREVIATIONS = {"univ": "university", "uni": "university"}


def _key(name: str) -> str:
    words = "".join(c if c.isalnum() else " " for c in name.casefold()).split()
    if words and words[0] == "the":
        words = words[1:]
    return " ".join(_ABBREVIATIONS.get(w, w) for w in words)[:200]


def upgrade():
    op.create_table(
        "institutions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "proposed",
                "confirmed",
                name="institution_state",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institutions")),
        sa.UniqueConstraint("key", name=op.f("uq_institutions_key")),
    )
    op.create_table(
        "institution_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_institution_aliases_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institution_aliases")),
        sa.UniqueConstraint("key", name=op.f("uq_institution_aliases_key")),
    )
    with op.batch_alter_table("institution_aliases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_institution_aliases_institution_id"), ["institution_id"], unique=False
        )
    op.create_table(
        "institution_domains",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_institution_domains_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institution_domains")),
        sa.UniqueConstraint("domain", name=op.f("uq_institution_domains_domain")),
    )
    with op.batch_alter_table("institution_domains", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_institution_domains_institution_id"), ["institution_id"], unique=False
        )
    # On SQLite batch mode rebuilds both tables; env.py keeps foreign keys off meanwhile.
    for table in ("users", "applications"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("institution_id", sa.Integer(), nullable=True))
            batch_op.create_index(
                batch_op.f(f"ix_{table}_institution_id"), ["institution_id"], unique=False
            )
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_institution_id_institutions"),
                "institutions",
                ["institution_id"],
                ["id"],
                ondelete="SET NULL",
            )
    _link_existing_rows()


def _link_existing_rows():
    connection = op.get_bind()
    meta = sa.MetaData()
    institutions = sa.Table(
        "institutions",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String),
        sa.Column("key", sa.String),
        sa.Column("state", sa.String),
        sa.Column("created_at", sa.DateTime(timezone=True)),
        sa.Column("confirmed_at", sa.DateTime(timezone=True)),
    )
    users = sa.Table(
        "users",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("affiliation", sa.String),
        sa.Column("institution_id", sa.Integer),
    )
    applications = sa.Table(
        "applications",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("institution", sa.String),
        sa.Column("institution_id", sa.Integer),
    )
    ballots = sa.Table(
        "ballots",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("round_id", sa.Integer),
        sa.Column("institution", sa.String),
    )
    rounds = sa.Table(
        "voting_rounds",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("results_published_at", sa.DateTime(timezone=True)),
    )
    spellings: dict[str, Counter] = defaultdict(Counter)
    members: set[str] = set()
    user_rows = connection.execute(sa.select(users.c.id, users.c.affiliation)).all()
    application_rows = connection.execute(
        sa.select(applications.c.id, applications.c.institution)
    ).all()
    for _id, name in user_rows:
        if key := _key(name or ""):
            spellings[key][" ".join(name.split())[:200]] += 1
            members.add(key)
    for _id, name in application_rows:
        if key := _key(name or ""):
            spellings[key][" ".join(name.split())[:200]] += 1
    now = datetime.now(UTC)
    ids: dict[str, int] = {}
    for key in sorted(spellings):
        # The most common spelling names it; among equals, one in mixed case (not shouted, not
        # all lower-case), then the longest (written out, not abbreviated), then alphabetical.
        name = sorted(
            spellings[key].items(),
            key=lambda kv: (-kv[1], kv[0].isupper() or kv[0].islower(), -len(kv[0]), kv[0]),
        )[0][0]
        # Members' institutions are taken as confirmed; confirmed_at stays empty, as it is the
        # moment a moderator confirmed one (what a downgrade would lose).
        result = connection.execute(
            institutions.insert().values(
                name=name,
                key=key,
                state="confirmed" if key in members else "proposed",
                created_at=now,
            )
        )
        ids[key] = result.inserted_primary_key[0]
    names = {
        key: name
        for key, name in connection.execute(sa.select(institutions.c.key, institutions.c.name))
    }
    for row_id, name in user_rows:
        if key := _key(name or ""):
            connection.execute(
                users.update()
                .where(users.c.id == row_id)
                .values(institution_id=ids[key], affiliation=names[key])
            )
    for row_id, name in application_rows:
        if key := _key(name or ""):
            connection.execute(
                applications.update()
                .where(applications.c.id == row_id)
                .values(institution_id=ids[key])
            )
    open_rounds = sa.select(rounds.c.id).where(rounds.c.results_published_at.is_(None))
    for ballot_id, name in connection.execute(
        sa.select(ballots.c.id, ballots.c.institution).where(ballots.c.round_id.in_(open_rounds))
    ).all():
        key = _key(name or "")
        connection.execute(
            ballots.update()
            .where(ballots.c.id == ballot_id)
            .values(institution=f"inst-{ids[key]}" if key in ids else "")
        )


def downgrade():
    # The names stay where they were typed (users.affiliation, applications.institution); what
    # moderators added to them does not.
    refuse_data_loss(
        "0020",
        {
            "institutions confirmed by a moderator": count(
                "institutions", "confirmed_at IS NOT NULL"
            ),
            "other spellings of institutions (aliases, merges)": count("institution_aliases"),
            "institutions' email domains": count("institution_domains"),
        },
    )
    # Open rounds' ballots get their institution's name back in place of its key.
    connection = op.get_bind()
    for institution_id, name in connection.execute(
        sa.text("SELECT id, name FROM institutions")
    ).all():
        connection.execute(
            sa.text("UPDATE ballots SET institution = :name WHERE institution = :key"),
            {"name": name, "key": f"inst-{institution_id}"},
        )
    for table in ("applications", "users"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(
                batch_op.f(f"fk_{table}_institution_id_institutions"), type_="foreignkey"
            )
            batch_op.drop_index(batch_op.f(f"ix_{table}_institution_id"))
            batch_op.drop_column("institution_id")
    with op.batch_alter_table("institution_domains", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_institution_domains_institution_id"))
    op.drop_table("institution_domains")
    with op.batch_alter_table("institution_aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_institution_aliases_institution_id"))
    op.drop_table("institution_aliases")
    op.drop_table("institutions")
