"""Languages and time zones: Flask-Babel's selectors, and the translated names of built-in data."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Any

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import Domain, get_locale, get_timezone, gettext
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup

from forum.extensions import babel

RTL_LOCALES = frozenset({"ar", "fa", "he", "ur"})


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now (built-in data, e.g. area names)."""
    return message


def select_locale() -> str:
    supported = current_app.config["FORUM_LOCALES"]
    if not has_request_context():  # CLI commands and jobs: the default (mail picks its own)
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user.is_authenticated and current_user.locale in supported:
        return current_user.locale
    if session.get("locale") in supported:
        return session["locale"]
    return request.accept_languages.best_match(supported) or "en"


def select_timezone() -> str:
    if not has_request_context():
        return "UTC"
    if current_user.is_authenticated and current_user.timezone:
        return current_user.timezone
    return "UTC"


def text_direction(locale: str) -> str:
    return "rtl" if locale.split("_")[0] in RTL_LOCALES else "ltr"


# First-strong isolates (U+2068 ... U+2069): text put inside a sentence keeps its own direction.
ISOLATE, END_ISOLATE = "\u2068", "\u2069"
_AGAINST = {"ltr": frozenset({"R", "AL"}), "rtl": frozenset({"L"})}


@lru_cache(maxsize=4096)
def _runs_against(text: str, direction: str) -> bool:
    against = _AGAINST[direction]
    return any(unicodedata.bidirectional(char) in against for char in text)


def isolated_in(text: str, direction: str) -> str:
    """``text`` as it goes into a sentence of ``direction``: isolated when it holds a letter
    of the other direction (an English title with its "?" on an Arabic page, an Arabic name
    on an English one), so its punctuation and the sentence's stay where they belong. Text of
    the sentence's own direction is left as it is."""
    if not text or text.startswith(ISOLATE) or not _runs_against(text, direction):
        return text
    return f"{ISOLATE}{text}{END_ISOLATE}"


def _isolating(gettext_callable):
    """A template gettext (as Jinja installs it) whose plain-text values are isolated for the
    page's direction: the one place every translated sentence in a template gets it, names and
    titles that members wrote included (Markup values are the forum's own HTML and left alone)."""

    @pass_context
    def call(__context, *args: Any, **variables: Any):
        if variables:
            direction = text_direction(str(locale_and_zone()[0]))
            variables = {
                key: isolated_in(value, direction)
                if isinstance(value, str) and not isinstance(value, Markup)
                else value
                for key, value in variables.items()
            }
        return gettext_callable(__context, *args, **variables)

    return call


def category_name(category) -> str:
    """An area's name, translated when it is still one of the built-in names."""
    return gettext(category.name)


def category_description(category) -> str:
    return gettext(category.description) if category.description else ""


class RequestDomain(Domain):
    """Flask-Babel's message domain, its translations kept for the request.

    Flask-Babel finds the translations anew for every string (about ten context lookups) and a
    topic page translates over a hundred (issue 15). They are kept with the locale they were
    found for, so inside ``force_locale`` (an email in its reader's language) the forced
    locale's are used, and after it the request's again."""

    def get_translations(self):
        context = getattr(g, "_flask_babel", None) if g else None
        kept = getattr(context, "forum_translations", None)
        if kept is not None and kept[0] is getattr(context, "babel_locale", None):
            return kept[1]
        translations = super().get_translations()
        context = getattr(g, "_flask_babel", None) if g else None
        locale = getattr(context, "babel_locale", None)
        if locale is not None:
            context.forum_translations = (locale, translations)
        return translations


def locale_and_zone():
    """The reader's Babel locale and time zone, as Flask-Babel's get_locale() and
    get_timezone() answer (force_locale included), read from where it keeps them once found:
    one context lookup instead of a dozen, for pages that format many moments (issue 15)."""
    context = getattr(g, "_flask_babel", None)
    locale = getattr(context, "babel_locale", None)
    tzinfo = getattr(context, "babel_tzinfo", None)
    if locale is None or tzinfo is None:
        return get_locale(), get_timezone()
    return locale, tzinfo


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    domain = babel.__dict__.get("domain_instance")
    if not isinstance(domain, RequestDomain):
        domain = babel.domain_instance = RequestDomain()  # Flask-Babel's is a cached_property
    # Templates' _() and ngettext() as Flask-Babel installs them, less its per-string lookup
    # of the request's domain (the forum has one).
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: domain.get_translations().ugettext(s),
        ngettext=lambda s, p, n: domain.get_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: domain.get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: domain.get_translations().unpgettext(c, s, p, n),
    )
    for name in ("gettext", "ngettext", "pgettext", "npgettext"):
        app.jinja_env.globals[name] = _isolating(app.jinja_env.globals[name])
