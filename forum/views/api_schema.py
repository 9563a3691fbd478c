"""The OpenAPI 3.1 document of the read API, served at /api/v1/openapi.json.

Written by hand beside the views it describes (api.py, api_json.py); tests/test_api.py runs
schemathesis against it, so an answer that strays from it fails the suite.
"""

from __future__ import annotations

from typing import Any

from forum.cursors import MAX_CURSOR_LENGTH
from forum.forms.fields import MAX_ID
from forum.models import AgendaArea, AgendaStatus, TopicKind, VotingMethod
from forum.services.api_reads import DEFAULT_LIMIT, MAX_LIMIT, TOPIC_SORTS
from forum.services.fulltext import MAX_RANKED_MATCHES, SearchOrder
from forum.services.voting import RoundState
from forum.textsearch import MAX_QUERY_CHARACTERS


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str, **extra: Any) -> dict:
    return {"type": [kind, "null"], **extra}


def _object(properties: dict, *, required: list[str] | None = None) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
WHEN = {"type": "string", "format": "date-time"}
DAY = {"type": "string", "format": "date"}
URL = {"type": "string", "format": "uri"}
BOOLEAN = {"type": "boolean"}
# Query text: no control characters (every request with one is refused, forum/input_checks.py).
TEXT = {"type": "string", "pattern": "^[^\\u0000-\\u001f]*$"}


def _page_of(item: str) -> dict:
    return _object(
        {
            "items": {"type": "array", "items": _ref(item)},
            "next_cursor": _nullable(
                "string", description="Pass as ?cursor= for the next page; null on the last."
            ),
        }
    )


SCHEMAS: dict[str, dict] = {
    "Error": _object(
        {
            "error": _object(
                {
                    "code": {
                        "type": "string",
                        "enum": [
                            "bad_request",
                            "bad_parameter",
                            "bad_cursor",
                            "bad_query",
                            "unauthorized",
                            "forbidden",
                            "not_found",
                            "method_not_allowed",
                            "server_error",
                        ],
                    },
                    "message": STRING,
                }
            )
        }
    ),
    "RateLimited": _object(
        {
            "error": _object(
                {
                    "code": {"type": "string", "const": "rate_limited"},
                    "message": STRING,
                    "retry_after": {"type": "integer", "minimum": 1},
                }
            )
        }
    ),
    "Person": _object({"id": INTEGER, "display_name": STRING}),
    "Topic": _object(
        {
            "id": INTEGER,
            "title": STRING,
            "kind": {"type": "string", "enum": [k.value for k in TopicKind]},
            "area": _object({"slug": STRING, "name": STRING}),
            "tags": {"type": "array", "items": STRING},
            "author": _ref("Person"),
            "created_at": WHEN,
            "last_post_at": WHEN,
            "reply_count": INTEGER,
            "vote_count": INTEGER,
            "is_pinned": BOOLEAN,
            "is_locked": BOOLEAN,
            "is_restricted": BOOLEAN,
            "accepted_post_id": _nullable("integer"),
            "url": URL,
        }
    ),
    "Post": _object(
        {
            "id": INTEGER,
            "number": INTEGER,
            "parent_id": _nullable("integer"),
            "depth": INTEGER,
            "author": _ref("Person"),
            "created_at": WHEN,
            "edited_at": _nullable("string", format="date-time"),
            "vote_count": INTEGER,
            "state": {"type": "string", "enum": ["visible", "hidden", "deleted"]},
            "body": _nullable(
                "string", description="Markdown; null when the reader may not see it"
            ),
            "body_html": _nullable("string", description="Sanitised HTML; null as body"),
        }
    ),
    "TopicPage": _page_of("Topic"),
    "SearchHit": _object(
        {
            "post": _object(
                {
                    "id": INTEGER,
                    "number": INTEGER,
                    "author": _ref("Person"),
                    "created_at": WHEN,
                    "url": URL,
                }
            ),
            "topic": _object(
                {
                    "id": INTEGER,
                    "title": STRING,
                    "kind": {"type": "string", "enum": [k.value for k in TopicKind]},
                    "area": _object({"slug": STRING, "name": STRING}),
                    "url": URL,
                }
            ),
            "snippet": {
                "type": "string",
                "description": "HTML: the post's text escaped, <mark> around the words asked",
            },
            "agenda_item_id": _nullable(
                "integer", description="The agenda item this post opens the discussion of"
            ),
        }
    ),
    "SearchPage": _page_of("SearchHit"),
    "TopicWithPosts": _object(
        {
            "topic": _ref("Topic"),
            "posts": {"type": "array", "items": _ref("Post")},
            "next_cursor": _nullable("string"),
        }
    ),
    "AgendaItem": _object(
        {
            "id": INTEGER,
            "title": STRING,
            "statement": STRING,
            "rationale": STRING,
            "area": {"type": "string", "enum": [a.value for a in AgendaArea]},
            "status": {"type": "string", "enum": [s.value for s in AgendaStatus]},
            "topic_id": INTEGER,
            "proposer": _ref("Person"),
            "created_at": WHEN,
            "updated_at": WHEN,
            "url": URL,
        }
    ),
    "AgendaItemPage": _page_of("AgendaItem"),
    "AgendaItemDetail": {
        "allOf": [
            _ref("AgendaItem"),
            _object(
                {
                    "evidence": {"type": "array", "items": URL},
                    "results": {
                        "type": "array",
                        "items": _object(
                            {
                                "round_id": INTEGER,
                                "round_title": STRING,
                                "rank": INTEGER,
                                "score": {"type": "number"},
                                "supporters": INTEGER,
                            }
                        ),
                    },
                }
            ),
        ]
    },
    "Round": _object(
        {
            "id": INTEGER,
            "title": STRING,
            "description": STRING,
            "method": {"type": "string", "enum": [m.value for m in VotingMethod]},
            "state": {"type": "string", "enum": [s.value for s in RoundState]},
            "opens_at": WHEN,
            "closes_at": WHEN,
            "results_published_at": _nullable("string", format="date-time"),
            "items": {
                "type": "array",
                "items": _object({"id": INTEGER, "title": STRING}),
            },
            "url": URL,
        }
    ),
    "RoundPage": _page_of("Round"),
    "FrozenResults": _object(
        {
            "rows": {
                "type": "array",
                "items": _object(
                    {
                        "rank": INTEGER,
                        "item_id": INTEGER,
                        "title": STRING,
                        "score": {"type": "number"},
                        "supporters": INTEGER,
                        "change": _nullable("integer"),
                        "capped": {"type": "array", "items": STRING},
                    }
                ),
            },
            "participation": {
                "oneOf": [
                    {"type": "null"},
                    _object({"voters": INTEGER, "eligible": INTEGER}),
                ]
            },
            "turnout": {
                "type": "array",
                "items": _object({"institution": STRING, "voters": INTEGER}),
            },
            "ballots_sha256": _nullable("string"),
            "results_sha256": _nullable("string"),
        }
    ),
    "RoundDetail": {
        "allOf": [
            _ref("Round"),
            _object(
                {
                    "budget": INTEGER,
                    "per_item_cap": INTEGER,
                    "credits": INTEGER,
                    "results": {
                        "description": "The frozen, published results; null until then.",
                        "oneOf": [{"type": "null"}, _ref("FrozenResults")],
                    },
                }
            ),
        ]
    },
}


def _json(schema: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


RESPONSES = {
    "BadRequest": _json(
        "Error", "A parameter or cursor the API cannot read, or a search it cannot run"
    ),
    "Unauthorized": {
        **_json("Error", "An unknown or revoked token, or a suspended member's"),
        "headers": {"WWW-Authenticate": {"schema": STRING}},
    },
    "NotFound": _json("Error", "No such thing, or one the reader may not see (the same answer)"),
    "TooManyRequests": {
        **_json("RateLimited", "Past the API's rate limit (FORUM_RATE_LIMIT_API)"),
        "headers": {"Retry-After": {"description": "Seconds to wait", "schema": INTEGER}},
    },
}


def _parameter(name: str, where: str, schema: dict, description: str, **extra) -> dict:
    return {"name": name, "in": where, "schema": schema, "description": description, **extra}


CURSOR = _parameter(
    "cursor", "query", {**TEXT, "maxLength": MAX_CURSOR_LENGTH}, "next_cursor from the page before"
)
LIMIT = _parameter(
    "limit",
    "query",
    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    "How many items a page holds",
)

# The topics' filters, which search takes too.
AREA = _parameter("area", "query", TEXT, "An area's slug")
TAG = _parameter("tag", "query", TEXT, "A tag's slug")
KIND = _parameter(
    "kind", "query", {"type": "string", "enum": [k.value for k in TopicKind]}, "The kind of topic"
)


def _id(name: str) -> dict:
    return _parameter(
        name, "path", {"type": "integer", "minimum": 0, "maximum": MAX_ID}, "The id", required=True
    )


def _errors(*codes: str) -> dict:
    names = {"400": "BadRequest", "401": "Unauthorized", "404": "NotFound"}
    answers = {code: {"$ref": f"#/components/responses/{names[code]}"} for code in codes}
    return {**answers, "429": {"$ref": "#/components/responses/TooManyRequests"}}


def _get(summary: str, operation_id: str, schema: str, parameters: list, errors: tuple) -> dict:
    return {
        "get": {
            "summary": summary,
            "operationId": operation_id,
            "parameters": parameters,
            "responses": {"200": _json(schema, summary), **_errors(*errors)},
        }
    }


def openapi_document() -> dict:
    """The document, built from the same enums and bounds the views check."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Forum read API",
            "version": "1",
            "description": (
                "Read-only. Visitors see what the pages show visitors; a member's personal read "
                "token (made under /settings/tokens) reads what that member can see."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{}, {"token": []}],
        "paths": {
            "/topics": _get(
                "Topics, as the lists show them",
                "listTopics",
                "TopicPage",
                [
                    AREA,
                    TAG,
                    KIND,
                    _parameter(
                        "sort",
                        "query",
                        {"type": "string", "enum": list(TOPIC_SORTS), "default": "latest"},
                        "latest activity, newest, or most votes",
                    ),
                    CURSOR,
                    LIMIT,
                ],
                ("400", "401", "404"),
            ),
            "/topics/{topic_id}": _get(
                "One topic and a page of its posts, in thread order",
                "getTopic",
                "TopicWithPosts",
                [_id("topic_id"), CURSOR, LIMIT],
                ("400", "401", "404"),
            ),
            "/agenda": _get(
                "Agenda items, oldest first",
                "listAgendaItems",
                "AgendaItemPage",
                [
                    _parameter(
                        "area",
                        "query",
                        {"type": "string", "enum": [a.value for a in AgendaArea]},
                        "The item's area",
                    ),
                    _parameter(
                        "status",
                        "query",
                        {"type": "string", "enum": [s.value for s in AgendaStatus]},
                        "The item's status",
                    ),
                    CURSOR,
                    LIMIT,
                ],
                ("400", "401"),
            ),
            "/agenda/{item_id}": _get(
                "One agenda item, with its places in closed rounds",
                "getAgendaItem",
                "AgendaItemDetail",
                [_id("item_id")],
                ("401", "404"),
            ),
            "/search": _get(
                "Posts, topics and agenda items found by their words, as /search finds them",
                "search",
                "SearchPage",
                [
                    _parameter(
                        "q",
                        "query",
                        {**TEXT, "maxLength": MAX_QUERY_CHARACTERS},
                        'Words, "quoted phrases" and -excluded words; at most 12 parts',
                        required=True,
                    ),
                    _parameter(
                        "order",
                        "query",
                        {"type": "string", "enum": list(SearchOrder), "default": "relevance"},
                        f"relevance (among the newest {MAX_RANKED_MATCHES} matches) or date "
                        "(newest first)",
                    ),
                    AREA,
                    TAG,
                    KIND,
                    _parameter("author", "query", TEXT, "The writer's handle"),
                    _parameter("since", "query", DAY, "Posts written on or after this day"),
                    _parameter("until", "query", DAY, "Posts written on or before this day"),
                    _parameter(
                        "answered",
                        "query",
                        {"type": "string", "enum": ["answered", "unanswered"]},
                        "Questions with or without an accepted answer",
                    ),
                    _parameter(
                        "status",
                        "query",
                        {"type": "string", "enum": [s.value for s in AgendaStatus]},
                        "Agenda items in this status",
                    ),
                    CURSOR,
                    LIMIT,
                ],
                ("400", "401"),
            ),
            "/rounds": _get(
                "Voting rounds, latest closing first",
                "listRounds",
                "RoundPage",
                [CURSOR, LIMIT],
                ("400", "401"),
            ),
            "/rounds/{round_id}": _get(
                "One voting round, with its frozen results once published",
                "getRound",
                "RoundDetail",
                [_id("round_id")],
                ("401", "404"),
            ),
        },
        "components": {
            "schemas": SCHEMAS,
            "responses": RESPONSES,
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal read token (Authorization: Bearer <token>)",
                }
            },
        },
    }
