"""What templates may call: permission checks, safe stored HTML, dates in the reader's zone."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    format_timedelta,
    get_locale,
    gettext,
)
from flask_login import current_user
from markupsafe import Markup

from forum import links
from forum.forms.attachments import ACCEPTED
from forum.forms.moderation import FLAG_REASONS
from forum.i18n import category_description, category_name, text_direction
from forum.mail import DEFAULT_SITE_NAME
from forum.markup import safe_html
from forum.models.types import utcnow
from forum.names import initials
from forum.permissions import can, is_staff
from forum.services import form_tokens
from forum.services.notifications import unread_count


def _can(action: str, thing=None):
    return can(current_user, action, thing)


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


def file_size(size: int) -> str:
    """A file's size the reader's way: 900 bytes, 12 KB, 3.4 MB."""
    if size < 1000:
        return gettext("%(num)s bytes", num=format_decimal(size))
    if size < 1_000_000:
        return gettext("%(num)s KB", num=format_decimal(round(size / 1000)))
    return gettext("%(num)s MB", num=format_decimal(round(size / 1_000_000, 1)))


def file_label(content_type: str) -> str:
    """What kind of file an attachment is, in a word."""
    return {"application/pdf": "PDF", "text/csv": "CSV"}.get(content_type) or gettext("Text")


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
        new_form_token=form_tokens.new_token,  # hand-written create forms (the flag box)
        # attachments and avatars (issue 17)
        attachment_types=ACCEPTED,
        file_size=file_size,
        file_label=file_label,
        initials=initials,
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
