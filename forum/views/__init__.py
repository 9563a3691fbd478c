"""Blueprints: parse the request, call a service, then flash, redirect or render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import abort, current_app, flash, make_response, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from forum.forms.fields import MAX_ID, whole_number
from forum.models import FeedKind
from forum.permissions import PermissionDenied, can
from forum.services import calendar_feeds, reading


class BoundedIntConverter(IntegerConverter):
    """``<int:id>`` that matches only ids a table can hold: /t/99999999999999999999 is a 404."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


MAX_PAGE = 1_000_000


def page_arg() -> int:
    number = whole_number(request.args.get("page", "1")) or 1
    return min(number, MAX_PAGE)


def safe_next(target: str | None, default: str) -> str:
    """Follow ?next= only to a path on this site (no open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def first_error(form) -> str:
    """The first thing a form found wrong, to flash when a small form posts back to a page."""
    # str(): a lazy string would be flashed as Markup (it has __html__) and shown unescaped.
    return str(next(iter(e for errors in form.errors.values() for e in errors), _("Try again.")))


# A form sent after what it acts on changed (a topic locked, a round closed, a post deleted, an
# area closed to the member meanwhile): the form page again, not a bare 403 page (issue 17,
# item 7). Still 403: the action is refused, as scripts and the refusal tests expect.
STALE_FORM = 403


def refusal_of_sent_form(action: str, thing: Any = None) -> str | None:
    """Why the reader may not do ``action`` to ``thing`` with the form they sent, or None if they
    may. The view then shows its form again with everything typed and this reason at the form,
    with the status STALE_FORM: the one rule for forms that were allowed when the page was
    opened. As with ``require``, a reader who may not know the thing gets the 404 of a missing
    id and a visitor is sent to log in; on GET (nothing typed yet) a refusal is the 403 page.
    """
    decision = can(current_user, action, thing)
    if decision:
        return None
    if request.method != "POST" or decision.not_found or decision.needs_login:
        raise PermissionDenied(decision)
    return decision.reason


def after_response(body, work: Callable[[], None]):
    """The response for ``body``, with ``work`` run in the app's context once it has been sent
    (the WSGI server closes the response after writing it)."""
    app = current_app._get_current_object()
    response = make_response(body)

    def run() -> None:
        with app.app_context():
            work()

    response.call_on_close(run)
    return response


def id_arg(value: Any) -> int | None:
    """An id from a form or query value: ASCII digits within range, else None (no such thing)."""
    return whole_number(value)


def visible_topic_or_404(topic_id: Any):
    """The topic, if it exists and the reader may see it; else the same 404 as a missing id."""
    number = id_arg(topic_id)
    found = reading.get_topic(number) if number is not None else None
    if found is None or not can(current_user, "view_topic", found):
        abort(404)
    return found


def visible_post_or_404(post_id: Any):
    """The post, if it exists and the reader may see that it does; else a 404."""
    number = id_arg(post_id)
    found = reading.get_post(number) if number is not None else None
    if found is None or not can(current_user, "view_post", found):
        abort(404)
    return found


def calendar_feed_page(kind: FeedKind, *, template: str, feed_endpoint: str):
    """A member's page for their secret feed address of this kind (login required): made or
    replaced, or revoked, by POST; a new address is shown once, when made."""
    token = None
    if request.method == "POST":
        if request.form.get("action") == "revoke":
            calendar_feeds.revoke_feed(current_user, kind)
            flash(_("Your calendar address no longer works."), "info")
        else:
            token = calendar_feeds.renew_feed(current_user, kind)
    return render_template(
        template,
        feed_url=url_for(feed_endpoint, token=token, _external=True) if token else None,
        has_feed=calendar_feeds.has_feed(current_user, kind),
    )
