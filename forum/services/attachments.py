"""Attachments: uploading files for a post being written, attaching them to it when it is
posted, and finding them to show and serve. What a file is and what is kept of it is decided
by forum/uploads.py; where it is kept, by forum/storage.py."""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import Attachment, Post, Topic, User
from forum.models.attachments import ATTACHMENT_KEY_LENGTH
from forum.models.types import utcnow
from forum.permissions import require
from forum.storage import storage
from forum.uploads import Refusal, UploadRefused, read_upload

# An upload no post took within this long was abandoned (the form was never sent).
UNPOSTED_KEPT_FOR = timedelta(days=1)
DISCARD_BATCH = 1000
# The address of an attachment in a post's Markdown: ![a figure](/a/<key>) or [data](/a/<key>).
ATTACHMENT_URL = re.compile(rf"/a/([A-Za-z0-9_-]{{{ATTACHMENT_KEY_LENGTH}}})\b")


@dataclass(frozen=True)
class FileSent:
    """One file as the browser sent it: its bytes and the name it gave."""

    data: bytes
    filename: str | None


@dataclass
class UploadResult:
    accepted: list[Attachment] = field(default_factory=list)
    refused: list[tuple[str, Refusal]] = field(default_factory=list)  # (name as sent, why)


def max_bytes() -> int:
    return current_app.config["FORUM_ATTACHMENT_MAX_BYTES"]


def per_post() -> int:
    return current_app.config["FORUM_ATTACHMENTS_PER_POST"]


def upload_files(member: User, files: Iterable[FileSent], *, already: int = 0) -> UploadResult:
    """Keep the files the member may attach, each refused one with why; the kept ones wait,
    seen by the member alone, until a post of theirs takes them (attach). ``already``: files
    the post being written holds already (the per-post limit counts them)."""
    require(member, "upload_attachment")
    result = UploadResult()
    room = per_post() - already
    for sent in files:
        try:
            if len(result.accepted) >= room:
                raise UploadRefused(Refusal.TOO_MANY)
            upload = read_upload(sent.data, sent.filename, max_bytes=max_bytes())
        except UploadRefused as refused:
            result.refused.append((sent.filename or "", refused.refusal))
            continue
        attachment = Attachment(
            key=secrets.token_urlsafe(16),
            uploader_id=member.id,
            kind=upload.kind,
            content_type=upload.content_type,
            filename=upload.filename,
            size=len(upload.original),
            width=upload.width,
            height=upload.height,
            has_display=upload.display is not None,
        )
        # The files first: a row never names a file that is not there.
        storage().put(attachment.original_key, upload.original, content_type=upload.content_type)
        if upload.display is not None:
            storage().put(attachment.display_key, upload.display, content_type=upload.content_type)
        db.session.add(attachment)
        result.accepted.append(attachment)
    db.session.commit()
    return result


def waiting(member: User, keys: Collection[str]) -> list[Attachment]:
    """The member's uploads named by ``keys`` that no post holds yet, in upload order."""
    keys = [k for k in dict.fromkeys(keys) if len(k) == ATTACHMENT_KEY_LENGTH][: per_post()]
    if not keys or not getattr(member, "is_authenticated", False):
        return []
    return list(
        db.session.scalars(
            select(Attachment)
            .where(
                Attachment.key.in_(keys),
                Attachment.uploader_id == member.id,
                Attachment.post_id.is_(None),
            )
            .order_by(Attachment.id)
        )
    )


def attach(member: User, post: Post, keys: Collection[str]) -> list[Attachment]:
    """Give the post the member's waiting uploads named by ``keys`` or by its text (a draft the
    browser restored keeps its ![...](/a/<key>) but not the form's keys), as many as it has
    room for (FORUM_ATTACHMENTS_PER_POST). Part of the caller's transaction: does not commit."""
    found = waiting(member, [*keys, *ATTACHMENT_URL.findall(post.body or "")])
    if not found:
        return []
    held = db.session.scalar(
        select(func.count()).select_from(Attachment).where(Attachment.post_id == post.id)
    )
    taken = found[: max(0, per_post() - (held or 0))]
    for attachment in taken:
        attachment.post_id = post.id
    db.session.flush()
    return taken


def image_sizes(body: str) -> dict[str, tuple[int, int]]:
    """The attached images a post's Markdown shows (by address), with the size each is shown
    at: the sanitiser lets exactly these through as <img> (forum.markup.render_markdown)."""
    keys = list(dict.fromkeys(ATTACHMENT_URL.findall(body or "")))[:50]
    if not keys:
        return {}
    rows = db.session.execute(
        select(Attachment.key, Attachment.width, Attachment.height).where(
            Attachment.key.in_(keys), Attachment.width.is_not(None)
        )
    )
    return {key: (width, height) for key, width, height in rows}


def get_attachment(key: str) -> Attachment | None:
    """The attachment with this key, with its post and topic (for the visibility check)."""
    if len(key) != ATTACHMENT_KEY_LENGTH:
        return None
    return db.session.scalar(
        select(Attachment)
        .where(Attachment.key == key)
        .options(joinedload(Attachment.post).joinedload(Post.topic).joinedload(Topic.category))
    )


def read_file(attachment: Attachment, *, original: bool = False) -> Iterator[bytes]:
    """The kept file's bytes, in chunks: the page's image (smaller, when one was made) or the
    original. The caller checked that the reader may see the attachment."""
    return storage().stream(attachment.original_key if original else attachment.display_key)


def discard_unposted(*, now: datetime | None = None) -> int:
    """Delete uploads that no post took within UNPOSTED_KEPT_FOR, rows then files (at most
    DISCARD_BATCH a run); how many. Safe to run twice at once: each row is deleted by one run,
    which alone deletes its files, and a row a post took meanwhile is left alone."""
    cutoff = (now or utcnow()) - UNPOSTED_KEPT_FOR
    old = (
        select(Attachment.id)
        .where(Attachment.post_id.is_(None), Attachment.created_at < cutoff)
        .limit(DISCARD_BATCH)
    )
    gone = db.session.execute(
        delete(Attachment)
        .where(Attachment.id.in_(old), Attachment.post_id.is_(None))
        .returning(Attachment.key, Attachment.has_display)
    ).all()
    db.session.commit()
    for key, has_display in gone:
        discarded = Attachment(key=key, has_display=has_display)  # not in the session
        for path in {discarded.original_key, discarded.display_key}:
            storage().delete(path)
    return len(gone)
