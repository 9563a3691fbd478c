"""Downgrades that would delete what members or operators wrote stop and say so first.

A migration's ``downgrade()`` counts what it would lose, before it changes anything, and hands the
counts to ``refuse_data_loss``:

    refuse_data_loss("0009", {
        "notifications that are not mentions": count("notifications", "kind <> 'mention'"),
    })

Nothing to lose (every count 0): the downgrade carries on without asking. Something to lose: the
loss is noted and the downgrade carries on, inside the one transaction ``migrations/env.py`` runs
a whole command in (SQLite too); once every step has run, ``refusing_data_loss`` (env.py) rolls it
all back and raises ``DataLossRefused``, whose message names every loss of every step and its
count. Nothing was changed, and the operator has seen all there is to lose, not just the first
step's. The one who means it takes a backup and runs the downgrade again with
``-x data-loss=accept`` (docs/migrations.md).

A downgrade that loses nothing says why in a ``# Lossless: ...`` comment instead;
tests/test_migration_downgrades.py fails on a downgrade that drops a table or column, deletes
or executes SQL with neither.

Alembic's ``prepend_sys_path = %(here)s`` (migrations/alembic.ini) puts this directory on
``sys.path``, so a migration imports this module as ``data_loss``, whichever command loads it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import context, op
from alembic.util import CommandError

ACCEPT_OPTION = "data-loss"
ACCEPT_VALUE = "accept"
ACCEPT_ARGUMENT = f"-x {ACCEPT_OPTION}={ACCEPT_VALUE}"
_NOTED = "forum.data_loss.noted"  # key of the list of losses in alembic's Config.attributes

log = logging.getLogger("alembic.data_loss")

Loss = tuple[str, str, "int | None"]  # revision, what, how many rows (None: not counted)


class DataLossRefused(CommandError):
    """A downgrade stopped before deleting data. A CommandError, so `flask db downgrade` prints
    the message (no traceback) and exits 1."""


def count(table: str, where: str = "1 = 1") -> int | None:
    """How many rows of ``table`` match ``where`` (SQL; true/false for booleans, which both
    databases take); None in offline (``--sql``) mode, where nothing can be counted."""
    if context.is_offline_mode():
        return None
    statement = sa.text(f"SELECT count(*) FROM {table} WHERE {where}")
    return op.get_bind().execute(statement).scalar_one()


def loss_accepted() -> bool:
    return context.get_x_argument(as_dictionary=True).get(ACCEPT_OPTION) == ACCEPT_VALUE


def describe(losses: list[Loss]) -> str:
    """What a downgrade would delete, how many of each, and how to go on."""
    revisions = list(dict.fromkeys(revision for revision, _, _ in losses))
    several = len(revisions) > 1
    named = ", ".join(revisions[:-1]) + " and " + revisions[-1] if several else revisions[0]
    lines = [f"Downgrading {named} would delete data the forum holds:"]
    for revision, what, number in losses:
        shown = "not counted (--sql mode)" if number is None else f"{number:,}"
        lines.append(f"  - {f'{revision}: ' if several else ''}{what}: {shown}")
    return "\n".join(lines)


def refusal(losses: list[Loss]) -> str:
    return (
        f"{describe(losses)}\n"
        "Nothing was changed. To delete them, take a backup (flask --app forum backup PATH), "
        f"then run the downgrade again with {ACCEPT_ARGUMENT}."
    )


def refuse_data_loss(revision: str, losses: dict[str, int | None]) -> None:
    """Note what the downgrade of ``revision`` would delete (``losses``: what -> how many rows).
    Call it first in ``downgrade()``, before any op; zero counts are nothing to lose.

    Under ``refusing_data_loss`` (env.py) a loss is noted and refused once every step has run;
    anywhere else (offline mode, another env.py) it is refused at once, before this step."""
    lost = [(revision, what, number) for what, number in losses.items() if number != 0]
    if not lost or loss_accepted():
        if lost:
            log.warning("%s\n(accepted with %s)", describe(lost), ACCEPT_ARGUMENT)
        return
    noted = context.config.attributes.get(_NOTED)
    if noted is None or context.is_offline_mode():
        raise DataLossRefused(refusal(lost))
    noted.extend(lost)


@contextmanager
def refusing_data_loss(config) -> Iterator[None]:
    """Around ``context.run_migrations()``, inside the transaction: once every step has run,
    raise DataLossRefused (so the transaction rolls back) if any step noted a loss."""
    config.attributes[_NOTED] = noted = []
    try:
        yield
        if noted:
            raise DataLossRefused(refusal(noted))
    finally:
        del config.attributes[_NOTED]
