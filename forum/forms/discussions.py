"""Forms for topics and posts."""

from flask_babel import format_number
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, StopValidation

from forum.models.discussions import BODY_MAX_LENGTH, TITLE_MAX_LENGTH


def _formatted(number: int) -> LazyString:
    """A number written the reader's way (50,000 in English, ٥٠٬٠٠٠ in Arabic), when shown."""
    return LazyString(format_number, number)


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _not_blank(form, field) -> None:
    if not (field.data or "").strip():
        raise StopValidation(_l("Write something before posting."))


KIND_CHOICES = [
    SelectChoice("question", _l("Question")),
    SelectChoice("discussion", _l("Discussion")),
    SelectChoice("resource", _l("Resource (paper, dataset, link)")),
]


def _body_field(label) -> TextAreaField:
    return TextAreaField(
        label,
        description=_l("Markdown: **bold**, *italic*, [links](https://…), lists, tables, `code`."),
        validators=[
            _not_blank,
            Length(
                max=BODY_MAX_LENGTH,
                message=_l("Keep it under %(n)s characters.", n=_formatted(BODY_MAX_LENGTH)),
            ),
        ],
    )


class TopicForm(FlaskForm):
    title = StringField(
        _l("Title"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Give the topic a title.")),
            Length(
                max=TITLE_MAX_LENGTH,
                message=_l("Keep the title under %(n)d characters.", n=TITLE_MAX_LENGTH),
            ),
        ],
    )
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES, default="discussion")
    body = _body_field(_l("Body"))


class ReplyForm(FlaskForm):
    body = _body_field(_l("Your reply"))
    parent_id = HiddenField()


class EditPostForm(FlaskForm):
    body = _body_field(_l("Body"))


class EditOpeningPostForm(EditPostForm):
    """Editing a topic's first post edits the topic's title too."""

    title = TopicForm.title
