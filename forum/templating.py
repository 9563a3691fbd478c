"""What templates may call: permission checks, safe stored HTML, dates in the reader's zone."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import format_date, format_datetime, format_timedelta, get_locale, gettext
from flask_login import current_user
from markupsafe import Markup

from forum import links
from forum.forms.moderation import FLAG_REASONS
from forum.i18n import category_description, category_name, text_direction
from forum.mail import DEFAULT_SITE_NAME
from forum.markup import safe_html
from forum.models.types import utcnow
from forum.permissions import can, is_staff
from forum.services.notifications import unread_count


def _can(action: str, thing=None):
    # The member itself, not the proxy: a rule reads the user several times per question and
    # a topic page asks ~100 questions; each read through the proxy is a context lookup.
    return can(current_user._get_current_object(), action, thing)


def time_tag(
    moment: datetime | None, *, relative: bool = False, date_only: bool = False, local: bool = False
) -> Markup:
    """A <time> element: relative ("3 hours ago") or absolute, in the reader's time zone.

    ``local`` is for moments that matter (deadlines): shown with the zone's name, and, for a
    visitor whose zone the server does not know, rewritten by static/forum.js in the browser's.
    """
    if moment is None:
        return Markup("")
    full = format_datetime(moment, "medium")
    if local:
        shown = format_datetime(moment, "full")
        anonymous = not current_user.is_authenticated
        return Markup('<time datetime="{}"{}>{}</time>').format(
            moment.isoformat(), Markup(" data-local") if anonymous else "", shown
        )
    if date_only:
        shown = format_date(moment, "long")
    elif relative:
        shown = format_timedelta(moment - utcnow(), add_direction=True, threshold=1.1)
    else:
        shown = full
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        moment.isoformat(), full, shown
    )


def _unread_notifications() -> int:
    return unread_count(current_user) if current_user.is_authenticated else 0


def init_app(app: Flask) -> None:
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    # Globals (not a context processor) so that imported macros see them too.
    app.jinja_env.globals.update(
        can=_can,
        is_staff=is_staff,
        category_name=category_name,
        category_description=category_description,
        safe_html=safe_html,
        time_tag=time_tag,
        format_date=format_date,
        resource_domain=links.display_domain,
        doi_url=links.doi_url,
        flag_reasons=FLAG_REASONS,
    )

    @app.context_processor
    def page_language() -> dict:
        locale = str(get_locale() or "en")
        return {
            "unread_notifications": _unread_notifications,
            "locale": locale,
            "text_dir": text_direction(locale),
            "site_name": app.config["FORUM_SITE_NAME"] or gettext(DEFAULT_SITE_NAME),
        }
