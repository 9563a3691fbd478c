"""Factories with defaults and overrides: make_user, make_topic, make_post."""

from __future__ import annotations

import itertools
from datetime import datetime

from forum.models import Category, Post, Role, Topic, TopicKind, User
from forum.services import accounts, discussions

PASSWORD = "correct horse battery"
_sequence = itertools.count(1)


def make_user(*, role: Role = Role.MEMBER, password: str = PASSWORD, **overrides) -> User:
    n = next(_sequence)
    values = {
        "email": f"person{n}@university{n}.example",
        "display_name": f"Person {n}",
        "affiliation": f"University {n}",
        **overrides,
    }
    return accounts.register_user(password=password, role=role, **values)


def make_topic(
    category: Category,
    *,
    author: User,
    title: str | None = None,
    body: str = "What do we know about this?",
    kind: TopicKind = TopicKind.DISCUSSION,
    now: datetime | None = None,
) -> Topic:
    return discussions.create_topic(
        author,
        category,
        title=title or f"Topic {next(_sequence)}",
        body=body,
        kind=kind,
        now=now,
    )


def make_post(
    topic: Topic,
    *,
    author: User,
    body: str = "A considered reply.",
    parent: Post | None = None,
    now: datetime | None = None,
) -> Post:
    return discussions.post_reply(author, topic, body=body, parent=parent, now=now)
