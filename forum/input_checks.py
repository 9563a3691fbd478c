"""Refusing requests that carry characters no one types: NUL and the other C0 controls.

PostgreSQL cannot store, nor even compare against, a NUL in text, and no keyboard types the other
C0 control characters; rather than each view and form guarding against them, every request is
checked once before any view runs (issue 13). Tab, newline and carriage return are ordinary in
form values (multi-line bodies); a tab is also allowed in query values (pasted into a search box).
Nothing is allowed in the path or in any field's name. Uploads are not read here. The few forms
listed in FORM_VALUES_CHECKED_BY_THE_VIEW judge their values themselves, at the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask import Flask, request
from werkzeug.exceptions import BadRequest

_CONTROL = "\x00-\x08\x0b\x0c\x0e-\x1f"  # C0 without tab, newline and carriage return
ANY_CONTROL = re.compile("[\x00-\x1f]")
CONTROL_IN_QUERY_VALUE = re.compile(f"[{_CONTROL}\n\r]")
CONTROL_IN_FORM_VALUE = re.compile(f"[{_CONTROL}]")


# Views whose forms find control characters in what was typed themselves and say so at the
# field, the text kept: an admin's page of Markdown is not lost to one stray NUL pasted into it
# (issue 16). Their paths, queries and field names are still checked here.
FORM_VALUES_CHECKED_BY_THE_VIEW = frozenset({"pages.edit"})
_NOTHING = re.compile(r"(?!)")  # matches no value


class ControlCharactersRefused(BadRequest):
    """The request holds a control character where none may be (errors.py shows why)."""


def has_control_characters(pairs: Iterable[tuple[str, str]], *, in_values: re.Pattern) -> bool:
    """Whether any name holds a control character, or any value one that ``in_values`` finds."""
    return any(ANY_CONTROL.search(name) or in_values.search(value) for name, value in pairs)


def refuse_control_characters() -> None:
    """A before_request hook: 400 for a control character in the path, query or form."""
    if (
        ANY_CONTROL.search(request.path)
        or has_control_characters(request.args.items(multi=True), in_values=CONTROL_IN_QUERY_VALUE)
        or has_control_characters(request.form.items(multi=True), in_values=_form_values())
    ):
        raise ControlCharactersRefused()


def _form_values() -> re.Pattern:
    """What is refused in form values: nothing for the views that judge them themselves."""
    if request.endpoint in FORM_VALUES_CHECKED_BY_THE_VIEW:
        return _NOTHING
    return CONTROL_IN_FORM_VALUE


def init_app(app: Flask) -> None:
    app.before_request(refuse_control_characters)
