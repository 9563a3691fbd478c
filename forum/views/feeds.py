"""Atom feeds: what a visitor may read, whoever asks (see forum/services/feeds.py)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, abort, render_template, request

from forum.permissions import can
from forum.services import feeds, tags, topic_areas

bp = Blueprint("feeds", __name__)

ATOM = "application/atom+xml"
FEED_MAX_AGE = 300  # seconds a reader may keep a feed before asking again
# Characters XML 1.0 cannot carry at all (control characters other than tab and newlines).
NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@bp.app_template_filter("xml_safe")
def xml_safe(value: Any) -> str:
    """Text with the characters XML forbids removed (left a plain str: autoescape escapes it)."""
    return NOT_XML.sub("", str(value))


@bp.app_template_filter("atom_date")
def atom_date(moment: datetime) -> str:
    """An RFC 3339 time in UTC, as Atom's updated and published want."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _send(feed: feeds.Feed) -> Response:
    """The feed with validators, answering 304 when the reader's copy is current."""
    body = render_template("feeds/atom.xml", feed=feed).encode("utf-8")
    response = Response(body, mimetype=ATOM)
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.last_modified = feed.updated
    response.cache_control.max_age = FEED_MAX_AGE
    response.vary.update(("Accept-Language", "Cookie"))  # the feed's title follows the language
    return response.make_conditional(request)


@bp.route("/feeds/latest.atom")
def latest():
    return _send(feeds.latest_feed())


@bp.route("/feeds/c/<slug>.atom")
def area(slug: str):
    found = topic_areas.get_category(slug)
    # A members-only area has no feed: feeds are read without logging in.
    if found is None or not can(None, "view_category", found):
        abort(404)
    return _send(feeds.area_feed(found))


@bp.route("/feeds/tags/<slug>.atom")
def tag(slug: str):
    found = tags.get_tag(slug) or abort(404)
    return _send(feeds.tag_feed(found))


@bp.route("/feeds/agenda.atom")
def agenda():
    return _send(feeds.agenda_feed())


@bp.route("/feeds/rounds.atom")
def rounds():
    return _send(feeds.rounds_feed())
