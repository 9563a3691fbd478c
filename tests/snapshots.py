"""A fingerprint of the whole database, to prove that a refused request changed nothing."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from forum.extensions import db


def database_snapshot() -> dict[str, tuple[int, str]]:
    """Each table's row count and a checksum of its rows (in primary-key order)."""
    db.session.commit()  # a fresh transaction: see what the last request wrote
    snapshot = {}
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        rows = db.session.execute(select(table).order_by(*order)).all()
        digest = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()
        snapshot[table.name] = (len(rows), digest)
    return snapshot


def changed_tables(before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]]):
    """The tables whose rows differ, with their row counts before and after."""
    return {
        name: (before.get(name, (0, ""))[0], after.get(name, (0, ""))[0])
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }
