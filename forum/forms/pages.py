"""The form admins edit a public page with (issue 16)."""

from __future__ import annotations

from flask_babel import format_number
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length, StopValidation, ValidationError

from forum.input_checks import CONTROL_IN_FORM_VALUE
from forum.services.pages import PAGE_MAX_LENGTH


def _not_blank(form, field) -> None:
    if not (field.data or "").strip():
        raise StopValidation(_l("Write the page's text."))


def _no_control_characters(form, field) -> None:
    """Control characters (such as NUL) are taken out of the text shown back, and the admin is
    told, so that nothing else they typed is lost (input_checks lets this form judge them)."""
    if CONTROL_IN_FORM_VALUE.search(field.data or ""):
        field.data = CONTROL_IN_FORM_VALUE.sub("", field.data)
        raise ValidationError(
            _l(
                "The text held control characters (such as NUL) that cannot be typed; they "
                "have been taken out below. Check the text and save again."
            )
        )


class PageForm(FlaskForm):
    body = TextAreaField(
        _l("Text"),
        description=_l("Markdown: **bold**, *italic*, [links](https://…), headings, lists."),
        validators=[
            _not_blank,
            _no_control_characters,
            Length(
                max=PAGE_MAX_LENGTH,
                message=_l(
                    "Keep it under %(n)s characters.", n=LazyString(format_number, PAGE_MAX_LENGTH)
                ),
            ),
        ],
    )
