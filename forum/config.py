"""Settings, read from FORUM_* environment variables.

Every setting has a default that works on a bare machine (SQLite under instance/);
production overrides them through the environment (see README.md, "Configuration").
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

SECRET_KEY_FILE = "secret_key"


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_or_create_secret_key(instance_path: str) -> str:
    """Return the key kept in instance/secret_key, creating it (mode 0600) the first time."""
    path = Path(instance_path) / SECRET_KEY_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # O_EXCL: when two workers start at once, only one writes; the other reads its key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def from_environment(instance_path: str) -> dict:
    """Build the Flask config mapping from FORUM_* variables."""
    database_url = os.environ.get("FORUM_DATABASE_URL") or (
        "sqlite:///" + str(Path(instance_path) / "forum.db")
    )
    secure = _flag("FORUM_SECURE_COOKIES")
    return {
        # None here means "use (or create) instance/secret_key": see create_app.
        "SECRET_KEY": os.environ.get("FORUM_SECRET_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # HTTPS only: Secure cookies and a Strict-Transport-Security header.
        "FORUM_SECURE_COOKIES": secure,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure,
        "PREFERRED_URL_SCHEME": "https" if secure else "http",
        "RATELIMIT_STORAGE_URI": os.environ.get("FORUM_RATELIMIT_STORAGE_URI", "memory://"),
        "FORUM_PAGE_CACHE_URL": os.environ.get("FORUM_PAGE_CACHE_URL", ""),
        "FORUM_PAGE_CACHE_SECONDS": int(os.environ.get("FORUM_PAGE_CACHE_SECONDS") or 60),
        "FORUM_PAGE_CACHE_PREFIX": os.environ.get("FORUM_PAGE_CACHE_PREFIX", "forum-pages:"),
        "FORUM_PAGE_CACHE_RECHECK_SECONDS": float(
            os.environ.get("FORUM_PAGE_CACHE_RECHECK_SECONDS") or 0
        ),
        "RATELIMIT_ENABLED": not _flag("FORUM_RATELIMIT_DISABLED"),
        # A sliding window: no burst of twice the limit across a window's edge.
        "RATELIMIT_STRATEGY": "moving-window",
        "RATELIMIT_KEY_PREFIX": os.environ.get("FORUM_RATELIMIT_KEY_PREFIX", "forum"),
        # Redis down: count in each worker's memory and say so in the log, never answer 500.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        # Behind N reverse proxies (nginx: 1), the client's address is the Nth from the end of
        # X-Forwarded-For; 0 trusts no header (the address is the connecting one).
        "FORUM_PROXY_COUNT": int(os.environ.get("FORUM_PROXY_COUNT", "0")),
        # FORUM_RATE_LIMIT_<NAME>="20 per 10 minutes" overrides one limit (forum/rate_limits.py).
        **{
            name: value
            for name, value in os.environ.items()
            if name.startswith("FORUM_RATE_LIMIT_") and value.strip()
        },
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        # Unset: the built-in name, translated into the reader's language.
        "FORUM_SITE_NAME": os.environ.get("FORUM_SITE_NAME") or None,
        "FORUM_LOCALES": ["en", "ar"],
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        # Attachments and avatars (issue 17): where files are kept (forum/storage.py), the size
        # of one file and how many one post may hold. Forms that take files accept a request
        # of up to FORUM_ATTACHMENTS_PER_POST files of that size (forum/views/attachments.py).
        "FORUM_STORAGE_URL": os.environ.get("FORUM_STORAGE_URL", ""),
        "FORUM_S3_ENDPOINT_URL": os.environ.get("FORUM_S3_ENDPOINT_URL") or None,
        "FORUM_ATTACHMENT_MAX_BYTES": int(
            os.environ.get("FORUM_ATTACHMENT_MAX_BYTES") or 10 * 1024 * 1024
        ),
        "FORUM_ATTACHMENTS_PER_POST": int(os.environ.get("FORUM_ATTACHMENTS_PER_POST") or 10),
        "FORUM_PASSWORD_HASH_METHOD": os.environ.get("FORUM_PASSWORD_HASH_METHOD", "scrypt"),
        # Outgoing mail (forum/mail.py): plain SMTP by default, STARTTLS or SSL when asked.
        "FORUM_MAIL_HOST": os.environ.get("FORUM_MAIL_HOST", "127.0.0.1"),
        "FORUM_MAIL_PORT": int(os.environ.get("FORUM_MAIL_PORT", "25")),
        "FORUM_MAIL_USE_TLS": _flag("FORUM_MAIL_USE_TLS"),
        "FORUM_MAIL_USE_SSL": _flag("FORUM_MAIL_USE_SSL"),
        "FORUM_MAIL_USERNAME": os.environ.get("FORUM_MAIL_USERNAME") or None,
        "FORUM_MAIL_PASSWORD": os.environ.get("FORUM_MAIL_PASSWORD") or None,
        "FORUM_MAIL_SENDER": os.environ.get("FORUM_MAIL_SENDER", "forum@localhost"),
        "FORUM_MAIL_TIMEOUT": float(os.environ.get("FORUM_MAIL_TIMEOUT", "10")),
        # How many reviewers without a conflict of interest score an application before anyone
        # may approve it (issue 14).
        "FORUM_REVIEWS_TO_APPROVE": int(os.environ.get("FORUM_REVIEWS_TO_APPROVE", "2")),
        # The address links in emails point to (no request to take it from in cron jobs).
        "FORUM_BASE_URL": os.environ.get("FORUM_BASE_URL", "http://127.0.0.1:5000"),
    }
