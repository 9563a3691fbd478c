"""Rendered pages kept for visitors, so the pages most people read cost no SQL and no rendering.

What is kept: the HTML of a GET from a visitor (nobody logged in, nothing flashed waiting in
their session) to one of the reading pages in CACHED_ENDPOINTS, per path, query string and
language, for at most ``FORUM_PAGE_CACHE_SECONDS`` (default 60: relative times and deadlines
read off the clock stay that fresh).

When it is thrown away: every committed write to a table a visitor's page may show (any table
but those in PRIVATE_TABLES) raises one version number, kept with every page: a page kept at
an older version is not sent, so the next visitor gets a freshly rendered page. The version
lives beside the pages: in Redis when ``FORUM_PAGE_CACHE_URL`` is a ``redis://`` address
(every worker and machine sees the same pages and the same version), in this process's memory
with ``memory://`` (one process only: another worker's writes would not reach it), and nothing
is kept when the setting is empty.

CSRF tokens: a kept page must not carry one visitor's token to another. Before a page is kept,
the token it was rendered with (Flask-WTF makes one per request, in ``g.csrf_token``) is
replaced by a placeholder, and the placeholder by the reader's own token whenever it is sent.

Revalidation: kept pages carry an ETag (the page with its placeholder, the version, and the
half hour, so a browser's copy never holds a token older than the token's one-hour limit) and
``Cache-Control: no-cache``; a browser that sends it back gets 304 Not Modified.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections import OrderedDict
from typing import NamedTuple

from flask import Flask, Response, current_app, g, has_app_context, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import event
from sqlalchemy.orm import Session

CACHED_ENDPOINTS = frozenset(
    {
        "discussions.home",
        "discussions.latest",
        "discussions.category",
        "discussions.topic",
        "discussions.tag_index",
        "discussions.tag",
        "agenda.index",
        "agenda.item",
        "agenda.round",
        "transparency.report",
        "pages.page",
        "accounts.profile",  # a public profile (a private one is a 404, never kept)
        "accounts.activity",
    }
)
# Atom feeds (issue 16): kept like pages, sent back as Atom.
FEED_ENDPOINTS = frozenset(
    {"feeds.latest", "feeds.area", "feeds.tag", "feeds.agenda", "feeds.rounds"}
)
CACHED_ENDPOINTS |= FEED_ENDPOINTS
# Tables no visitor's page shows: writes to them keep the kept pages.
PRIVATE_TABLES = frozenset(
    {
        "topic_reads",
        "notifications",
        "notification_batches",
        "digest_deliveries",
        "subscriptions",
        "account_tokens",
        "api_tokens",
        "application_messages",
        "application_reviews",
        # issues 17-18: a member's own marks and ledgers, never on a visitor's page
        "bookmarks",
        "form_submissions",
        "paper_reminders",
        "workshop_calendar_feeds",
    }
)
PLACEHOLDER = "\x00csrf-token-of-this-reader\x00"
PLACEHOLDER_BYTES = PLACEHOLDER.encode()
TOKEN_PERIOD = 1800  # seconds: the ETag changes this often (tokens live an hour)
MEMORY_PAGES = 2000


class Kept(NamedTuple):
    """A kept page: the version it was rendered at, a digest of its body (for the ETag, made
    once when it is kept, not on every hit) and the body with the token placeholder."""

    version: int
    digest: bytes
    body: bytes


def _kept(version: int, body: bytes) -> Kept:
    return Kept(version, hashlib.sha256(body).hexdigest()[:32].encode(), body)


class MemoryStore:
    """Pages and the version in this process (tests, a single-process server)."""

    def __init__(self) -> None:
        self._pages: OrderedDict[str, tuple[float, Kept]] = OrderedDict()
        self._version = 0
        self._lock = threading.Lock()

    def lookup(self, key: str) -> tuple[int, Kept | None]:
        with self._lock:
            found = self._pages.get(key)
            if found is None or found[0] < time.monotonic() or found[1].version != self._version:
                return self._version, None
            self._pages.move_to_end(key)
            return self._version, found[1]

    def bump(self) -> None:
        with self._lock:
            self._version += 1
            self._pages.clear()

    def keep(self, key: str, kept: Kept, seconds: int) -> None:
        with self._lock:
            self._pages[key] = (time.monotonic() + seconds, kept)
            self._pages.move_to_end(key)
            while len(self._pages) > MEMORY_PAGES:
                self._pages.popitem(last=False)


class RedisStore:
    """Pages and the version in Redis, shared by every worker; a Redis that does not answer
    means pages are rendered as if nothing were kept.

    A hit is one round trip (MGET of the version and the page, the page stored with the
    version it was rendered at): under a busy CPU every round trip to Redis waits for the
    scheduler, and two of them made a kept home page cost ten bare requests (issue 15).
    With ``recheck`` seconds (FORUM_PAGE_CACHE_RECHECK_SECONDS, default 0: ask every time)
    this worker also keeps the pages it sent and the version it last read, and trusts both
    that long without asking Redis: a write through this worker is seen at once, a write
    through another worker reaches this worker's visitors within ``recheck`` seconds."""

    def __init__(self, url: str, prefix: str, *, recheck: float = 0) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._version_key = f"{prefix}version"
        self._prefix = prefix
        self._recheck = recheck
        self._known = (-1, 0.0)  # the version last read from Redis, and when (monotonic)
        self._local: OrderedDict[str, tuple[float, Kept]] = OrderedDict()
        self._lock = threading.Lock()

    def _local_hit(self, key: str) -> Kept | None:
        version, read_at = self._known
        now = time.monotonic()
        if version < 0 or now - read_at >= self._recheck:
            return None
        with self._lock:
            found = self._local.get(key)
            if found is None or found[0] < now or found[1].version != version:
                return None
            self._local.move_to_end(key)
            return found[1]

    def _keep_locally(self, key: str, kept: Kept, expires: float) -> None:
        with self._lock:
            self._local[key] = (expires, kept)
            self._local.move_to_end(key)
            while len(self._local) > MEMORY_PAGES:
                self._local.popitem(last=False)

    def lookup(self, key: str) -> tuple[int, Kept | None]:
        if self._recheck:
            kept = self._local_hit(key)
            if kept is not None:
                return kept.version, kept
        try:
            version, page = self._redis.mget(self._version_key, f"{self._prefix}{key}")
            version = int(version or 0)
        except Exception:  # noqa: BLE001 - no cache is better than no page
            return -1, None
        self._known = (version, time.monotonic())
        if page is None:
            return version, None
        head, _, body = page.partition(b"\n")
        kept_version, _, digest = head.partition(b" ")
        if kept_version != b"%d" % version:  # rendered before the last write
            return version, None
        kept = Kept(version, digest, body)
        if self._recheck:
            self._keep_locally(key, kept, time.monotonic() + self._recheck)
        return version, kept

    def bump(self) -> None:
        try:
            self._known = (int(self._redis.incr(self._version_key)), time.monotonic())
        except Exception:  # noqa: BLE001
            self._known = (-1, 0.0)
            current_app.logger.warning("page cache: could not raise the version in Redis")

    def keep(self, key: str, kept: Kept, seconds: int) -> None:
        value = b"%d %s\n%s" % (kept.version, kept.digest, kept.body)
        with contextlib.suppress(Exception):  # a page not kept is rendered next time
            self._redis.set(f"{self._prefix}{key}", value, ex=seconds)
        if self._recheck:
            self._keep_locally(key, kept, time.monotonic() + min(seconds, self._recheck))


def _store(app: Flask):
    return app.extensions.get("forum_page_cache")


def forget_all(app: Flask | None = None) -> None:
    """Throw every kept page away (a write a visitor may see was committed)."""
    store = _store(app or current_app)
    if store is not None:
        store.bump()


# --- Which requests ------------------------------------------------------------------------------


def _cacheable_request() -> bool:
    return (
        request.method in ("GET", "HEAD")
        and request.endpoint in CACHED_ENDPOINTS
        and "_flashes" not in session
        and not current_user.is_authenticated
    )


def _key() -> str:
    """The page's place: language and path (the version is stored with the page)."""
    path = request.full_path.encode("utf-8", "surrogateescape")
    return hashlib.sha256(b"%s\n%s" % (str(get_locale()).encode(), path)).hexdigest()


def _etag(kept: Kept) -> str:
    period = int(time.time() // TOKEN_PERIOD)
    return hashlib.sha256(b"%s\n%d\n%d" % (kept.digest, kept.version, period)).hexdigest()[:32]


def _mimetype() -> str:
    """Kept feeds go out as Atom (they hold what a visitor may read, whoever asks)."""
    return "application/atom+xml" if request.endpoint in FEED_ENDPOINTS else "text/html"


def _send(kept: Kept) -> Response:
    response = Response(mimetype=_mimetype())
    response.set_etag(_etag(kept))
    response.cache_control.no_cache = True
    if request.if_none_match.contains(response.get_etag()[0]):
        response.status_code = 304
        return response
    body = kept.body
    if PLACEHOLDER_BYTES in body:  # a page without a form needs no token (nor a new session)
        body = body.replace(PLACEHOLDER_BYTES, generate_csrf().encode())
    response.set_data(body)
    response.headers["X-Forum-Cache"] = "hit"
    return response


def _before_request():
    store = _store(current_app)
    if store is None or not _cacheable_request():
        return None
    key = _key()
    version, kept = store.lookup(key)
    if version < 0:
        return None
    if kept is not None:
        return _send(kept)
    g.page_cache_version = version  # rendered now: _after_request keeps it
    g.page_cache_key = key
    return None


def _after_request(response: Response) -> Response:
    version = g.pop("page_cache_version", None)
    if version is None or response.status_code != 200 or response.mimetype != _mimetype():
        return response
    if response.is_streamed:
        return response
    body = response.get_data()
    token = g.get("csrf_token")
    if token:  # this visitor's token: kept pages hold the placeholder instead
        body = body.replace(token.encode(), PLACEHOLDER_BYTES)
    kept = _kept(version, body)
    _store(current_app).keep(
        g.pop("page_cache_key"), kept, current_app.config["FORUM_PAGE_CACHE_SECONDS"]
    )
    sent = _send(kept)
    sent.headers["X-Forum-Cache"] = "miss"
    for name in ("Set-Cookie", "Content-Language", "Vary"):
        for value in response.headers.getlist(name):
            sent.headers.add(name, value)
    return sent


# --- Writes that throw pages away --------------------------------------------------------------


def _public_table(name: str | None) -> bool:
    return name is not None and name not in PRIVATE_TABLES


def _after_flush(session: Session, flush_context) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if _public_table(getattr(getattr(obj, "__table__", None), "name", None)):
            session.info["forum_public_write"] = True
            return


def _do_orm_execute(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if _public_table(getattr(table, "name", None)):
            state.session.info["forum_public_write"] = True


def _after_commit(session: Session) -> None:
    if session.info.pop("forum_public_write", False) and has_app_context():
        forget_all()


def _after_rollback(session: Session) -> None:
    session.info.pop("forum_public_write", None)


_listening = False


def _listen_once() -> None:
    global _listening
    if not _listening:
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _do_orm_execute)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
        _listening = True


def init_app(app: Flask) -> None:
    """Call last in create_app: a kept page is sent only after every other check passed."""
    url = app.config.get("FORUM_PAGE_CACHE_URL", "")
    app.config.setdefault("FORUM_PAGE_CACHE_SECONDS", 60)
    if not url:
        return
    if url == "memory://":
        store = MemoryStore()
    elif url.startswith(("redis://", "rediss://", "unix://")):
        store = RedisStore(
            url,
            app.config.get("FORUM_PAGE_CACHE_PREFIX", "forum-pages:"),
            recheck=float(app.config.get("FORUM_PAGE_CACHE_RECHECK_SECONDS", 0)),
        )
    else:
        raise ValueError(f"FORUM_PAGE_CACHE_URL: {url!r} is neither memory:// nor redis://")
    app.extensions["forum_page_cache"] = store
    _listen_once()
    app.before_request(_before_request)
    app.after_request(_after_request)
