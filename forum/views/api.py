"""The read API under /api/v1/ (issue 16): JSON for topics, agenda items and rounds, paginated
with cursors, seen as the pages see them, described by /api/v1/openapi.json (api_schema.py).

Who reads: the member whose token ``Authorization: Bearer <token>`` carries, else whoever the
session cookie names (a visitor without one). A token is only ever read here, and only for
GETs: it never writes, and no other route looks at it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from forum import cursors
from forum.errors import api_error
from forum.forms.fields import whole_number
from forum.models import AgendaArea, AgendaStatus, TopicKind
from forum.permissions import can
from forum.services import (
    agenda,
    api_reads,
    api_tokens,
    reading,
    round_results,
    tags,
    topic_areas,
    voting,
)
from forum.services.api_tokens import TokenRefusal
from forum.services.fulltext import DATE_KEY, SearchFilters, SearchOrder, search_after
from forum.views import api_json
from forum.views.api_schema import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_FILTER_CHARACTERS = 100
# What QueryError's reasons mean (as the search page says them).
QUERY_REFUSALS = {
    "too_long": lambda: _("That search is too long: use at most 500 characters."),
    "too_many": lambda: _("That search has too many words and phrases: use at most 12."),
    "nothing": lambda: _(
        "There is nothing to search for: give at least one word that is not left out with -."
    ),
}


class BadParameter(ValueError):
    """A query parameter the API cannot read; the message names it."""


@bp.errorhandler(BadParameter)
def _bad_parameter(error: BadParameter):
    return api_error(400, "bad_parameter", str(error))


@bp.errorhandler(cursors.BadCursor)
def _bad_cursor(error: cursors.BadCursor):
    return api_error(400, "bad_cursor", _("This cursor was not made by this list: start again."))


@bp.before_request
def _authenticate():
    """A token, when the request carries one, decides who reads; else the session does."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _space, secret = header.partition(" ")
    found = (
        api_tokens.reader_for_token(secret.strip())
        if scheme.lower() == "bearer"
        else TokenRefusal.UNKNOWN
    )
    if isinstance(found, TokenRefusal):
        message = (
            _("This token's account is suspended: its tokens read again when the suspension ends.")
            if found == TokenRefusal.SUSPENDED
            else _("This token is unknown or revoked.")
        )
        response = api_error(401, "unauthorized", message)
        response.headers["WWW-Authenticate"] = 'Bearer realm="forum"'
        return response
    g.api_token_member = found
    return None


@bp.after_request
def _not_cached_by_others(response):
    # What a member reads is theirs: no shared cache keeps it for the next reader.
    response.headers.setdefault("Cache-Control", "private, no-store")
    response.vary.update(("Authorization", "Cookie"))
    return response


def _reader() -> Any:
    return g.get("api_token_member") or current_user


def _limit() -> int:
    text = request.args.get("limit")
    if text is None:
        return api_reads.DEFAULT_LIMIT
    number = whole_number(text, most=api_reads.MAX_LIMIT)
    if number is None or number < 1:
        raise BadParameter(
            _("limit must be a whole number from 1 to %(most)d.", most=api_reads.MAX_LIMIT)
        )
    return number


def _choice(name: str, choices, default=None):
    text = request.args.get(name)
    if text is None:
        return default
    for choice in choices:
        if text == str(choice):
            return choice
    raise BadParameter(
        _("%(name)s must be one of: %(choices)s.", name=name, choices=", ".join(map(str, choices)))
    )


def _after(scope: str, columns) -> tuple | None:
    text = request.args.get("cursor")
    if text is None:
        return None
    return cursors.decode(current_app.secret_key, scope, text, api_reads.key_types(columns))


def _page(scope: str, page: api_reads.Slice, shape) -> dict:
    return {
        "items": [shape(row) for row in page.items],
        "next_cursor": None
        if page.next_key is None
        else cursors.encode(current_app.secret_key, scope, page.next_key),
    }


def _day(name: str) -> date | None:
    text = request.args.get(name)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadParameter(_("%(name)s must be a date such as 2026-12-04.", name=name)) from None


def _text(name: str) -> str:
    # No slug or handle is longer; longer text can only match nothing.
    return request.args.get(name, "")[:MAX_FILTER_CHARACTERS]


def _not_found():
    return api_error(404, "not_found", _("There is nothing at this address."))


@bp.route("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.route("/topics")
def topics():
    reader = _reader()
    sort = _choice("sort", tuple(api_reads.TOPIC_SORTS), "latest")
    kind = _choice("kind", tuple(TopicKind))
    area = tag = None
    if (slug := request.args.get("area")) is not None:
        area = topic_areas.get_category(slug)
        if area is None or not can(reader, "view_category", area):
            return _not_found()
    if (slug := request.args.get("tag")) is not None:
        tag = tags.get_tag(slug)
        if tag is None:
            return _not_found()
    scope = f"topics:{sort}"
    page = api_reads.topics(
        reader,
        api_reads.TopicQuery(sort=sort, area=area, tag=tag, kind=kind),
        after=_after(scope, api_reads.TOPIC_SORTS[sort]),
        limit=_limit(),
    )
    return jsonify(_page(scope, page, api_json.topic))


@bp.route("/topics/<int:topic_id>")
def topic(topic_id: int):
    reader = _reader()
    found = reading.get_topic(topic_id)
    if found is None or not can(reader, "view_topic", found):
        return _not_found()
    scope = f"posts:{found.id}"
    page = api_reads.topic_posts(
        reader, found, after=_after(scope, api_reads.POST_KEY), limit=_limit()
    )
    posts = _page(scope, page, lambda post: api_json.post(reader, post))
    return jsonify(
        {
            "topic": api_json.topic(found),
            "posts": posts["items"],
            "next_cursor": posts["next_cursor"],
        }
    )


@bp.route("/agenda")
def agenda_items():
    scope = "agenda"
    page = api_reads.agenda_items(
        _reader(),
        area=_choice("area", tuple(AgendaArea)),
        status=_choice("status", tuple(AgendaStatus)),
        after=_after(scope, api_reads.AGENDA_KEY),
        limit=_limit(),
    )
    return jsonify(_page(scope, page, api_json.agenda_item))


@bp.route("/agenda/<int:item_id>")
def agenda_item(item_id: int):
    found = agenda.get_item(item_id)
    if found is None or not can(_reader(), "view_agenda_item", found):
        return _not_found()
    return jsonify(api_json.agenda_item_detail(found, agenda.item_results(found)))


@bp.route("/rounds")
def rounds():
    scope = "rounds"
    page = api_reads.rounds(after=_after(scope, api_reads.ROUND_KEY), limit=_limit())
    return jsonify(_page(scope, page, api_json.voting_round))


@bp.route("/rounds/<int:round_id>")
def round(round_id: int):  # noqa: A001 - the URL's noun
    found = voting.get_round(round_id)
    if found is None:
        return _not_found()
    results = round_results.results_view(found) if found.results is not None else None
    return jsonify(api_json.voting_round_detail(found, results))


def _search_filters() -> SearchFilters:
    """The search page's filters, each checked as the API checks its parameters."""
    return SearchFilters(
        area=_text("area"),
        tag=_text("tag"),
        kind=str(_choice("kind", tuple(TopicKind), "")),
        author=_text("author"),
        since=_day("since"),
        until=_day("until"),
        answered=_choice("answered", ("answered", "unanswered"), ""),
        status=str(_choice("status", tuple(AgendaStatus), "")),
    )


@bp.route("/search")
def search():
    """The search page's results as JSON: the same words, filters and visibility."""
    order = _choice("order", tuple(SearchOrder), SearchOrder.RELEVANCE)
    scope = f"search:{order}"
    key_types = api_reads.key_types(DATE_KEY) if order is SearchOrder.DATE else (int,)
    after = None
    if (cursor := request.args.get("cursor")) is not None:
        after = cursors.decode(current_app.secret_key, scope, cursor, key_types)
    results = search_after(
        _reader(),
        request.args.get("q", ""),
        filters=_search_filters(),
        order=order,
        after=after,
        limit=_limit(),
    )
    if results.error:
        return api_error(400, "bad_query", QUERY_REFUSALS[results.error]())
    return jsonify(
        {
            "items": [api_json.search_hit(hit) for hit in results.hits],
            "next_cursor": None
            if results.next_key is None
            else cursors.encode(current_app.secret_key, scope, results.next_key),
        }
    )
