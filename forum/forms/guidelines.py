"""Forms for guidelines (issue 18): a new document and its editors, a section, a suggested
edit, deciding one, and moving the document's state."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from forum.forms.discussions import _strip, _within_bounds
from forum.forms.fields import plain_title, whole_number
from forum.forms.one_time import OneTimeForm
from forum.models.guidelines import (
    GUIDELINE_TITLE_MAX_LENGTH,
    REASON_MAX_LENGTH,
    SECTION_BODY_MAX_LENGTH,
    SECTION_HEADING_MAX_LENGTH,
)

MAX_EDITORS = 20


def _editor_emails(text: str | None) -> list[str]:
    return [part for part in (text or "").replace(",", "\n").split() if part]


def _reason_field(label, *, required: bool = True) -> StringField:
    validators = [
        Length(
            max=REASON_MAX_LENGTH,
            message=_l("Keep it under %(n)d characters.", n=REASON_MAX_LENGTH),
        )
    ]
    validators.insert(0, DataRequired(_l("Say why, in a few words.")) if required else Optional())
    return StringField(label, filters=[_strip], validators=validators)


def _section_body_field(label) -> TextAreaField:
    return TextAreaField(
        label,
        description=_l("Markdown: **bold**, *italic*, [links](https://…), lists, tables, `code`."),
        validators=[
            DataRequired(_l("Write the section's text.")),
            Length(
                max=SECTION_BODY_MAX_LENGTH,
                message=_l("Keep a section under %(n)d characters.", n=SECTION_BODY_MAX_LENGTH),
            ),
            _within_bounds,
        ],
    )


class GuidelineForm(OneTimeForm):
    title = StringField(
        _l("Title"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Give the guideline a title.")),
            Length(
                max=GUIDELINE_TITLE_MAX_LENGTH,
                message=_l("Keep the title under %(n)d characters.", n=GUIDELINE_TITLE_MAX_LENGTH),
            ),
            plain_title,
        ],
    )
    editors = TextAreaField(
        _l("Editors"),
        description=_l("Their email addresses, one a line."),
        validators=[Length(max=MAX_EDITORS * 260)],
    )

    def validate_editors(self, field) -> None:
        if not _editor_emails(field.data):
            raise ValidationError(_l("Choose at least one editor."))
        if len(_editor_emails(field.data)) > MAX_EDITORS:
            raise ValidationError(_l("Choose at most %(n)d editors.", n=MAX_EDITORS))

    @property
    def editor_emails(self) -> list[str]:
        return _editor_emails(self.editors.data)


class EditorsForm(FlaskForm):
    editors = GuidelineForm.editors
    validate_editors = GuidelineForm.validate_editors
    editor_emails = GuidelineForm.editor_emails


class BasedOnVersion:
    """The version of the section the text was written against (refused if it changed since)."""

    base_version = HiddenField()

    @property
    def base(self) -> int:
        return whole_number(self.base_version.data) or 0


class SectionForm(BasedOnVersion, FlaskForm):
    heading = StringField(
        _l("Heading"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Give the section a heading.")),
            Length(max=SECTION_HEADING_MAX_LENGTH),
        ],
    )
    body = _section_body_field(_l("Text"))
    reason = _reason_field(_l("Reason for the change"))


class EditSectionForm(SectionForm):
    agenda_items = TextAreaField(
        _l("Agenda items it addresses"),
        validators=[Length(max=3000)],
        description=_l("One agenda item number or address a line."),
    )

    def agenda_item_refs(self) -> list[str]:
        return [
            line.strip() for line in (self.agenda_items.data or "").splitlines() if line.strip()
        ]


class NewSectionForm(OneTimeForm, SectionForm):
    pass


class SuggestionForm(BasedOnVersion, OneTimeForm):
    body = _section_body_field(_l("Your text for this section"))
    reason = _reason_field(_l("Why this change?"))


class DeclineForm(FlaskForm):
    note = _reason_field(_l("Note to the member"))


class StateForm(FlaskForm):
    state = SelectField(
        _l("State"),
        choices=[
            SelectChoice("draft", _l("Draft")),
            SelectChoice("open", _l("Open for comment")),
            SelectChoice("published", _l("Published")),
        ],
    )
