"""Opaque cursors for the read API's lists: the sort key of the last row a page showed, signed.

A cursor names a position in one ordering (its ``scope``, such as ``topics:latest``), not a page
number: rows written while a reader walks a list neither repeat nor go missing from the pages
after. Signed with the app's key, so a cursor is only ever one this forum made; anything else
(altered, truncated, from another list) is ``BadCursor``, which the API answers with 400.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from itsdangerous import BadData, URLSafeSerializer

MAX_CURSOR_LENGTH = 512
KeyValue = int | str | datetime


class BadCursor(ValueError):
    """A cursor this list did not make."""


def _serializer(secret_key: str, scope: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=f"forum.api-cursor.{scope}")


def encode(secret_key: str, scope: str, values: Sequence[KeyValue]) -> str:
    packed = [{"t": v.isoformat()} if isinstance(v, datetime) else v for v in values]
    return _serializer(secret_key, scope).dumps(packed)


def _is_plain(value: object, kind: type) -> bool:
    """An int (not a bool, which JSON also has) for int, a str for str."""
    return type(value) is kind and kind in (int, str)


def decode(secret_key: str, scope: str, cursor: str, types: Sequence[type]) -> tuple[KeyValue, ...]:
    """The key values ``cursor`` holds, each of the type given; else BadCursor."""
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH or not cursor.isascii():
        raise BadCursor(cursor)
    try:
        packed = _serializer(secret_key, scope).loads(cursor)
    except (BadData, ValueError, UnicodeError):
        raise BadCursor(cursor) from None
    if not isinstance(packed, list) or len(packed) != len(types):
        raise BadCursor(cursor)
    values: list[KeyValue] = []
    for value, kind in zip(packed, types, strict=True):
        if kind is datetime:
            try:
                moment = datetime.fromisoformat(value["t"])
            except (TypeError, KeyError, ValueError):
                raise BadCursor(cursor) from None
            if moment.tzinfo is None:
                raise BadCursor(cursor)
            values.append(moment)
        elif _is_plain(value, kind):
            values.append(value)
        else:
            raise BadCursor(cursor)
    return tuple(values)
