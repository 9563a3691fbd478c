"""Test helpers: a client that fills in the CSRF token like a browser, and a query log."""

from __future__ import annotations

import contextvars
import html
import re
from dataclasses import dataclass, field

from flask.testing import FlaskClient

_CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def page_without_tokens(response) -> str:
    """A page's HTML with each CSRF token blanked: a token carries the second it was made in, so
    two otherwise identical pages differ when made either side of a second's boundary."""
    return _CSRF_INPUT.sub('name="csrf_token" value="<token>"', response.get_data(as_text=True))


class FormClient(FlaskClient):
    """A client whose requests run as they do in production, and that posts forms like a browser.

    Each request runs in a fresh context, so it gets its own app context, ``g`` and database
    session rather than sharing the test's (Flask would otherwise reuse the test's app context).
    The test's own session is committed around each request so that it sees what the request
    wrote. Each response is read whole and closed, as a server does once it is sent.
    ``post(url, data=..., csrf=False)`` sends no CSRF token, to test that it is refused.
    """

    def open(self, *args, **kwargs):
        from flask import has_app_context

        from forum.extensions import db

        # Read the whole body and close the response, as a WSGI server does once it has sent
        # it: work a view leaves for after the response (call_on_close) then runs.
        kwargs.setdefault("buffered", True)
        if not has_app_context():  # following a redirect, already inside the fresh context
            return super().open(*args, **kwargs)
        db.session.commit()
        try:
            return contextvars.Context().run(super().open, *args, **kwargs)
        finally:
            db.session.commit()

    def csrf_token(self) -> str:
        page = super().get("/login").get_data(as_text=True)
        match = _CSRF_INPUT.search(page)
        assert match, "no CSRF token on the login page"
        return match.group(1)

    def post(self, *args, csrf: bool = True, **kwargs):
        if csrf:
            data = dict(kwargs.get("data") or {})
            data.setdefault("csrf_token", self.csrf_token())
            kwargs["data"] = data
        return super().post(*args, **kwargs)

    def login(self, user, password: str = "correct horse battery"):
        response = self.post("/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    def logout(self):
        return self.post("/logout")


@dataclass
class QueryLog:
    statements: list[str] = field(default_factory=list)
    active: bool = False

    def counting(self) -> QueryLog:
        self.statements.clear()
        return self

    def __enter__(self) -> QueryLog:
        self.statements.clear()
        self.active = True
        return self

    def __exit__(self, *exc) -> None:
        self.active = False

    @property
    def count(self) -> int:
        return len(self.statements)

    def report(self) -> str:
        return "\n".join(f"{i + 1}. {s}" for i, s in enumerate(self.statements))


def field_error(response, field: str) -> str:
    """The message shown under one field of the page (the field macro's -error paragraph)."""
    page = response.get_data(as_text=True)
    match = re.search(rf'id="{field}-error">(.*?)</p>', page, re.S)
    assert match, f"no message at the {field} field"
    return html.unescape(match.group(1))
