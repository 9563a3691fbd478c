"""The search page: /search?q= and its filters; what each reader finds is what they may read."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template, request
from flask_login import current_user

from forum.models import AgendaStatus, TopicKind
from forum.services import tags, topic_areas
from forum.services.fulltext import SearchFilters, SearchOrder, search
from forum.views import page_arg

bp = Blueprint("search", __name__)

# No filter value is longer (slugs: 60, handles: 30); longer text can only match nothing.
MAX_FILTER_CHARACTERS = 100


def _arg(name: str) -> str:
    return request.args.get(name, "").replace("\x00", "").strip()[:MAX_FILTER_CHARACTERS]


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(_arg(name))
    except ValueError:
        return None  # a date the form would not send: no such filter


def _one_of(name: str, allowed) -> str:
    value = _arg(name)
    return value if value in allowed else ""


def _filters() -> SearchFilters:
    return SearchFilters(
        area=_arg("area"),
        tag=_arg("tag"),
        kind=_one_of("kind", {k.value for k in TopicKind}),
        author=_arg("author"),
        since=_day("since"),
        until=_day("until"),
        answered=_one_of("answered", {"answered", "unanswered"}),
        status=_one_of("status", {s.value for s in AgendaStatus}),
    )


def url_args(filters: SearchFilters, **extra) -> dict:
    """The query-string arguments of a search: its filters in use plus ``extra``."""
    args = {name: getattr(filters, name) for name in filters.active()}
    args.update({k: v for k, v in extra.items() if v})
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in args.items()}


@bp.route("/search")
def search_page():
    text = request.args.get("q", "")
    order = SearchOrder.DATE if request.args.get("order") == "date" else SearchOrder.RELEVANCE
    results = None
    if text.strip():
        results = search(current_user, text, filters=_filters(), order=order, page=page_arg())
    return render_template(
        "search.html",
        results=results,
        text=text[:500].replace("\x00", ""),
        filters=_filters(),
        order=order,
        areas=topic_areas.list_categories(viewer=current_user),
        all_tags=tags.all_tags(),
        kinds=list(TopicKind),
        statuses=list(AgendaStatus),
        url_args=url_args,
    )
