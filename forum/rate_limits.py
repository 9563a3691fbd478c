"""Rate limits on every write, in one table: what is limited, per whom, and how much.

Each limit is a setting (``FORUM_RATE_LIMIT_<NAME>``, a Flask-Limiter string such as
``"20 per 10 minutes"``) with the default below. Counters live where
``FORUM_RATELIMIT_STORAGE_URI`` says: Redis shared by every worker and machine in production,
memory otherwise. ``init_app`` puts the limits on the views after the blueprints are
registered; a POST route that is not named here gets the general ``write`` limit, so no write
goes unlimited.

Whom a limit counts:

- ``reader``: the member whose read token the API request carries, else as ``member``;
- ``member``: the logged-in member (a campus behind one address is many members), else the
  visitor's address;
- ``address``: the client's address (for visitors who have no account yet);
- ``account``: the email address typed into the form, hashed (log-in and password reset:
  guessing one member's password from many addresses is counted against that member);
- ``account_address``: that email and the address together (one guesser does not lock the
  member out for everyone).

Log-in counts only failed attempts: a member who types their password right is never slowed.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, g, request
from flask_limiter import RouteLimit
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import parse_many

from forum.extensions import limiter


def _address() -> str:
    return "address:" + get_remote_address()


def _member() -> str:
    if current_user.is_authenticated:
        return f"member:{current_user.id}"
    return _address()


def _typed_account() -> str:
    # Hashed: counters in Redis hold no email addresses.
    email = request.form.get("email", "").strip().casefold()
    return hashlib.sha256(email.encode("utf-8", "replace")).hexdigest()[:32]


def _account() -> str:
    return "account:" + _typed_account()


def _account_address() -> str:
    return f"account:{_typed_account()}|{_address()}"


def _reader() -> str:
    # The read API's reader: the member whose token the request carries (forum/views/api.py
    # puts them in g), else as for "member".
    token_member = g.get("api_token_member")
    if token_member is not None:
        return f"member:{token_member.id}"
    return _member()


KEYS: dict[str, Callable[[], str]] = {
    "member": _member,
    "reader": _reader,
    "address": _address,
    "account": _account,
    "account_address": _account_address,
}


def is_preview() -> bool:
    """The composer's Preview button: counted as a preview, not as a post."""
    return request.method == "POST" and "preview" in request.form


def _failed(response) -> bool:
    # A log-in that succeeds redirects; a refused one shows the form again.
    return response.status_code != 302


@dataclass(frozen=True)
class Rule:
    name: str
    default: str
    per: str
    what: str
    methods: tuple[str, ...] = ("POST",)
    exempt_when: Callable[[], bool] | None = None
    deduct_when: Callable | None = None

    @property
    def setting(self) -> str:
        return "FORUM_RATE_LIMIT_" + self.name.upper()


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule(
            "login_account",
            "30 per hour",
            "account",
            "failed log-ins to one account",
            deduct_when=_failed,
        ),
        Rule(
            "login_account_address",
            "10 per 10 minutes",
            "account_address",
            "failed log-ins to one account from one address",
            deduct_when=_failed,
        ),
        Rule("reset_address", "10 per hour", "address", "password-reset requests"),
        Rule("reset_account", "3 per hour", "account", "password-reset emails to one account"),
        Rule("register", "10 per hour", "address", "accounts created"),
        Rule("apply", "10 per hour", "address", "membership applications sent"),
        Rule("topic", "10 per hour", "member", "new topics and reports", exempt_when=is_preview),
        Rule("reply", "20 per 10 minutes", "member", "replies", exempt_when=is_preview),
        Rule("edit", "30 per 10 minutes", "member", "edits saved", exempt_when=is_preview),
        Rule(
            "preview",
            "60 per 10 minutes",
            "member",
            "previews",
            exempt_when=lambda: not is_preview(),
        ),
        Rule("live_preview", "300 per 10 minutes", "member", "live previews while writing"),
        Rule("flag", "20 per hour", "member", "flags"),
        Rule("vote", "60 per 10 minutes", "member", "upvotes given or taken back"),
        Rule("ballot", "10 per 10 minutes", "member", "ballots cast or changed"),
        Rule("proposal", "10 per hour", "member", "agenda items proposed"),
        Rule(
            "lookup",
            "120 per minute",
            "member",
            "mention, similar-topic and institution lookups",
            methods=("GET",),
        ),
        Rule(
            "api",
            "300 per 5 minutes",
            "reader",
            "read API requests (a token's member, else as for member)",
            methods=("GET",),
        ),
        Rule("write", "300 per hour", "member", "any other form sent, per form"),
    )
}

# Which limits each view gets. Every POST route not named here gets "write".
ENDPOINTS: dict[str, tuple[str, ...]] = {
    "accounts.login": ("login_account", "login_account_address"),
    "accounts.forgot_password": ("reset_address", "reset_account"),
    "accounts.register": ("register",),
    "membership.apply": ("apply",),
    "discussions.new_topic": ("topic", "preview"),
    "disclosure.new_report": ("topic", "preview"),
    "discussions.reply": ("reply", "preview"),
    "discussions.edit_post": ("edit", "preview"),
    "moderation.flag": ("flag",),
    "discussions.vote": ("vote",),
    "agenda.cast": ("ballot",),
    "agenda.propose": ("proposal",),
    "discussions.suggest_members": ("lookup",),
    "discussions.similar": ("lookup",),
    "institutions.suggest": ("lookup",),
    "composer.preview": ("live_preview",),
    **{
        f"api.{name}": ("api",)
        for name in (
            "topics",
            "topic",
            "agenda_items",
            "agenda_item",
            "rounds",
            "round",
            "search",
            "openapi",
        )
    },
}


def _limit_value(rule: Rule) -> Callable[[], str]:
    return lambda: current_app.config.get(rule.setting) or rule.default


def _route_limit(rule: Rule) -> RouteLimit:
    return limiter.limit(
        _limit_value(rule),
        key_func=KEYS[rule.per],
        methods=list(rule.methods),
        scope=rule.name,
        exempt_when=rule.exempt_when,
        deduct_when=rule.deduct_when,
    )


# Made once: the limiter keeps limits in a set per view, so apps built later (tests build many)
# add the same objects again instead of counting every request once per app.
_ROUTE_LIMITS: dict[str, RouteLimit] = {name: _route_limit(rule) for name, rule in RULES.items()}


def limits_for(endpoint: str, methods: set[str]) -> tuple[str, ...]:
    """The names of the limits a route gets: its own, else ``write`` for a route that takes POST."""
    if endpoint in ENDPOINTS:
        return ENDPOINTS[endpoint]
    return ("write",) if "POST" in methods else ()


def init_app(app: Flask) -> None:
    for rule in RULES.values():  # a mistyped setting stops the start, not a request later
        value = app.config.get(rule.setting) or rule.default
        try:
            parse_many(value)
        except ValueError as error:
            raise ValueError(f"{rule.setting}={value!r} is not a rate limit: {error}") from None
    methods_by_endpoint: dict[str, set[str]] = {}
    for url_rule in app.url_map.iter_rules():
        methods_by_endpoint.setdefault(url_rule.endpoint, set()).update(url_rule.methods or ())
    for endpoint, methods in methods_by_endpoint.items():
        view = app.view_functions.get(endpoint)
        if view is None or endpoint == "static":
            continue
        for name in limits_for(endpoint, methods):
            view = _ROUTE_LIMITS[name](view)
        app.view_functions[endpoint] = view


def retry_after() -> int:
    """Seconds until the limit just exceeded lets the next request through (at least 1)."""
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()))
