"""The read API's JSON shapes (each one a schema in api_schema.py): what a page would show."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import url_for

from forum.models import AgendaItem, Post, Topic, User, VotingRound
from forum.permissions import can
from forum.services.round_results import ResultsView
from forum.services.voting import round_state


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def person(user: User) -> dict:
    return {"id": user.id, "display_name": user.display_name}


def topic(found: Topic) -> dict:
    return {
        "id": found.id,
        "title": found.title,
        "kind": found.kind.value,
        "area": {"slug": found.category.slug, "name": found.category.name},
        "tags": sorted(tag.slug for tag in found.tags),
        "author": person(found.author),
        "created_at": _when(found.created_at),
        "last_post_at": _when(found.last_post_at),
        "reply_count": found.reply_count,
        "vote_count": found.vote_count,
        "is_pinned": found.is_pinned,
        "is_locked": found.is_locked,
        "is_restricted": found.is_restricted,
        "accepted_post_id": found.accepted_post_id,
        "url": url_for("discussions.topic", topic_id=found.id, slug=found.slug, _external=True),
    }


def search_hit(hit) -> dict:
    """One search result (forum.services.fulltext.Hit): the post found, its topic, and a
    snippet whose only markup is <mark> around the words asked (the rest is escaped)."""
    return {
        "post": {
            "id": hit.post.id,
            "number": hit.post.number,
            "author": person(hit.post.author),
            "created_at": _when(hit.post.created_at),
            "url": url_for("discussions.post", post_id=hit.post.id, _external=True),
        },
        "topic": {
            "id": hit.topic.id,
            "title": hit.topic.title,
            "kind": hit.topic.kind.value,
            "area": {"slug": hit.topic.category.slug, "name": hit.topic.category.name},
            "url": url_for(
                "discussions.topic", topic_id=hit.topic.id, slug=hit.topic.slug, _external=True
            ),
        },
        "snippet": str(hit.snippet),
        "agenda_item_id": None if hit.agenda_item is None else hit.agenda_item.id,
    }


def _post_state(found: Post) -> str:
    if found.is_deleted:
        return "deleted"
    if found.is_hidden:
        return "hidden"
    return "visible"


def post(reader: Any, found: Post) -> dict:
    """A post as the topic's page shows it to ``reader``: the body only when they may see it."""
    shown = bool(can(reader, "see_post_body", found))
    return {
        "id": found.id,
        "number": found.number,
        "parent_id": found.parent_id,
        "depth": found.depth,
        "author": person(found.author),
        "created_at": _when(found.created_at),
        "edited_at": _when(found.edited_at),
        "vote_count": found.vote_count,
        "state": _post_state(found),
        "body": found.body if shown else None,
        "body_html": found.body_html if shown else None,
    }


def agenda_item(item: AgendaItem) -> dict:
    return {
        "id": item.id,
        "title": item.title,
        "statement": item.statement,
        "rationale": item.rationale,
        "area": item.area.value,
        "status": item.status.value,
        "topic_id": item.topic_id,
        "proposer": person(item.proposer),
        "created_at": _when(item.created_at),
        "updated_at": _when(item.updated_at),
        "url": url_for("agenda.item", item_id=item.id, _external=True),
    }


def agenda_item_detail(item: AgendaItem, results) -> dict:
    return {
        **agenda_item(item),
        "evidence": [evidence.url for evidence in item.evidence],
        "results": [
            {
                "round_id": round_.id,
                "round_title": round_.title,
                "rank": result.rank,
                "score": result.score,
                "supporters": result.supporters,
            }
            for round_, result in results
        ],
    }


def voting_round(round_: VotingRound) -> dict:
    return {
        "id": round_.id,
        "title": round_.title,
        "description": round_.description,
        "method": round_.method.value,
        "state": round_state(round_).value,
        "opens_at": _when(round_.opens_at),
        "closes_at": _when(round_.closes_at),
        "results_published_at": _when(round_.results_published_at),
        "items": [{"id": item.id, "title": item.title} for item in round_.items],
        "url": url_for("agenda.round", round_id=round_.id, _external=True),
    }


def voting_round_detail(round_: VotingRound, results: ResultsView | None) -> dict:
    """A round, with its frozen results once they are published (null until then)."""
    frozen = None
    if results is not None:
        frozen = {
            "rows": [
                {
                    "rank": row.rank,
                    "item_id": row.item_id,
                    "title": row.title,
                    "score": row.score,
                    "supporters": row.supporters,
                    "change": row.change,
                    "capped": list(row.capped),
                }
                for row in results.rows
            ],
            "participation": results.participation,
            "turnout": [
                {"institution": str(name), "voters": count} for name, count in results.turnout
            ],
            "ballots_sha256": round_.ballots_sha256,
            "results_sha256": round_.results_sha256,
        }
    return {
        **voting_round(round_),
        "budget": round_.budget,
        "per_item_cap": round_.per_item_cap,
        "credits": round_.credits,
        "results": frozen,
    }
