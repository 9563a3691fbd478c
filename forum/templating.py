"""What templates may call: permission checks, safe stored HTML, dates in the reader's zone."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from babel import dates
from flask import Flask, g
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    get_locale,
    gettext,
)
from flask_login import current_user
from markupsafe import Markup, escape
from wtforms import SelectChoice

from forum import links
from forum.charts import isolated
from forum.forms.attachments import ACCEPTED
from forum.forms.moderation import FLAG_REASONS
from forum.i18n import category_description, category_name, locale_and_zone, text_direction
from forum.mail import DEFAULT_SITE_NAME
from forum.markup import safe_html
from forum.models.types import utcnow
from forum.names import initials
from forum.permissions import can, is_staff
from forum.services import form_tokens
from forum.services.notifications import unread_count


def _can(action: str, thing=None):
    """``can`` for the reader, as templates ask it: a page asks the same question of the same
    thing again and again (may they reply? once per post), and nothing changes while it is
    rendered, so each answer is kept for the request (issue 15)."""
    answers = g.get("template_answers")
    if answers is None:
        answers = g.template_answers = {}
    # The member itself, not the proxy: a rule reads the user several times per question.
    user = current_user._get_current_object()
    key = (action, id(thing))
    kept = answers.get(key)
    if kept is not None and kept[0] is thing and kept[1] is user:
        return kept[2]
    decision = can(user, action, thing)
    answers[key] = (thing, user, decision)  # holding the thing keeps its id from being reused
    return decision


@lru_cache(maxsize=4096)
def _absolute(moment: datetime, style: str, locale, tzinfo) -> str:
    """A moment as Babel writes it: a pure function of these four (the call reads the locale
    and zone from the request, as the key does). Kept because Babel takes 30-60 µs a moment and
    every reader of a page is shown the same moments (issue 15)."""
    return format_date(moment, style) if style == "long" else format_datetime(moment, style)


@lru_cache(maxsize=4096)
def _relative(seconds: int, locale) -> str:
    """ "3 hours ago": Babel reads a time delta as its whole seconds, so the text is a pure
    function of those and the locale, kept like _absolute's (an agenda shows a hundred)."""
    return dates.format_timedelta(seconds, add_direction=True, threshold=1.1, locale=locale)


def time_tag(
    moment: datetime | None, *, relative: bool = False, date_only: bool = False, local: bool = False
) -> Markup:
    """A <time> element: relative ("3 hours ago") or absolute, in the reader's time zone.

    ``local`` is for moments that matter (deadlines): shown with the zone's name, and, for a
    visitor whose zone the server does not know, rewritten by static/forum.js in the browser's.
    """
    if moment is None:
        return Markup("")
    locale, tzinfo = locale_and_zone()
    if local:
        shown = _absolute(moment, "full", locale, tzinfo)
        local_mark = "" if current_user.is_authenticated else " data-local"
        return Markup(
            f'<time datetime="{escape(moment.isoformat())}"{local_mark}>{escape(shown)}</time>'
        )
    full = _absolute(moment, "medium", locale, tzinfo)
    if date_only:
        shown = _absolute(moment, "long", locale, tzinfo)
    elif relative:
        ago = moment - utcnow()
        shown = _relative(ago.days * 86400 + ago.seconds, locale)
    else:
        shown = full
    # Markup.format() costs more than the formatting above; escape() gives the same text.
    return Markup(
        f'<time datetime="{escape(moment.isoformat())}" title="{escape(full)}">'
        f"{escape(shown)}</time>"
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


def translated_choices(choices: list[SelectChoice]) -> list[SelectChoice]:
    """Choices with their (lazy) labels translated now, for a page that lists them many times."""
    return [SelectChoice(choice.value, str(choice.label)) for choice in choices]


def _unread_notifications() -> int:
    return unread_count(current_user) if current_user.is_authenticated else 0


def init_app(app: Flask) -> None:
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    # Member text inside a translated sentence keeps its own direction (Unicode isolates).
    app.jinja_env.filters["isolate"] = isolated

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
        translated_choices=translated_choices,
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
