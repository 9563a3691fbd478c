"""Languages and time zones: Flask-Babel's selectors, and the translated names of built-in data."""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import gettext
from flask_login import current_user

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


def category_name(category) -> str:
    """An area's name, translated when it is still one of the built-in names."""
    return gettext(category.name)


def category_description(category) -> str:
    return gettext(category.description) if category.description else ""


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
