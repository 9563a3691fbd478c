"""Members' pictures: uploaded in the profile settings, cut to a square and re-encoded
(forum.uploads.make_avatar), kept in storage as avatars/<random key>.webp. A member without
one is shown by their initials (templates/macros.html, avatar)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

from flask import current_app
from sqlalchemy import select

from forum.extensions import db
from forum.models import User
from forum.models.attachments import ATTACHMENT_KEY_LENGTH
from forum.permissions import require
from forum.storage import StoredFileMissing, storage
from forum.uploads import Refusal, UploadRefused, make_avatar


def _path(key: str) -> str:
    return f"avatars/{key}.webp"


def set_avatar(actor: User, member: User, *, data: bytes) -> Refusal | None:
    """Give the member this picture (replacing any earlier one); the refusal when it cannot be."""
    require(actor, "edit_profile", member)
    try:
        picture = make_avatar(data, max_bytes=current_app.config["FORUM_ATTACHMENT_MAX_BYTES"])
    except UploadRefused as refused:
        return refused.refusal
    key = secrets.token_urlsafe(16)
    storage().put(_path(key), picture, content_type="image/webp")
    earlier, member.avatar_key = member.avatar_key, key
    db.session.commit()
    if earlier:
        storage().delete(_path(earlier))
    return None


def remove_avatar(actor: User, member: User) -> None:
    """Show the member's initials again instead of their picture."""
    require(actor, "edit_profile", member)
    earlier, member.avatar_key = member.avatar_key, None
    db.session.commit()
    if earlier:
        storage().delete(_path(earlier))


def read_avatar(key: str) -> Iterator[bytes] | None:
    """A member's current picture, in chunks; None for a key that is no member's picture now
    (a replaced one is gone). Pictures are shown wherever the member's name is."""
    if len(key) != ATTACHMENT_KEY_LENGTH:
        return None
    if db.session.scalar(select(User.id).where(User.avatar_key == key)) is None:
        return None
    try:
        return storage().stream(_path(key))
    except StoredFileMissing:
        return None
