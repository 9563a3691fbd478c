"""Forms for topics and posts."""

from flask_babel import format_number
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, Length, Optional, StopValidation, ValidationError

from forum.forms.fields import MultiCheckboxField
from forum.links import canonical_url, normalise_doi
from forum.models.discussions import BODY_MAX_LENGTH, TITLE_MAX_LENGTH
from forum.services.discussions import MAX_TAGS_PER_TOPIC


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
    resource_url = URLField(
        _l("Link to the resource"),
        description=_l("For resources: the paper, dataset or page you share."),
        filters=[_strip],
        validators=[Optional(), Length(max=2000)],
    )
    doi = StringField(
        _l("DOI (optional)"),
        description=_l("Like 10.1145/3576915.3616600"),
        filters=[_strip],
        validators=[Optional(), Length(max=300)],
    )
    tags = MultiCheckboxField(
        _l("Tags"),
        description=_l("Up to %(n)d.", n=MAX_TAGS_PER_TOPIC),
        coerce=int,
        choices=[],
        validate_choice=False,
    )
    body = _body_field(_l("Body"))
    # Set when the author has seen that the link was already shared and posts anyway.
    confirm_duplicate = BooleanField(_l("Post it anyway: it adds something new"))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.kind.data == "resource" and not self.resource_url.data and not self.doi.data:
            self.resource_url.errors = [
                *self.resource_url.errors,
                _l("A resource needs a link or a DOI."),
            ]
            return False
        return valid

    def validate_resource_url(self, field) -> None:
        if field.data and canonical_url(field.data) is None:
            raise ValidationError(_l("Enter a web address starting with https://"))

    def validate_doi(self, field) -> None:
        if field.data and normalise_doi(field.data) is None:
            raise ValidationError(_l("This is not a DOI: it looks like 10.1234/something."))

    def validate_tags(self, field) -> None:
        if len(field.data or []) > MAX_TAGS_PER_TOPIC:
            raise ValidationError(_l("Choose at most %(n)d tags.", n=MAX_TAGS_PER_TOPIC))


class ReplyForm(FlaskForm):
    body = _body_field(_l("Your reply"))
    parent_id = HiddenField()


class EditPostForm(FlaskForm):
    body = _body_field(_l("Body"))


class EditOpeningPostForm(EditPostForm):
    """Editing a topic's first post edits the topic's title too."""

    title = TopicForm.title


class TagForm(FlaskForm):
    name = StringField(
        _l("Tag"),
        description=_l("Lower-case words joined by hyphens, e.g. membership-inference."),
        filters=[_strip],
        validators=[DataRequired(_l("Name the tag.")), Length(max=40)],
    )
    description = StringField(_l("What it is for"), filters=[_strip], validators=[Length(max=300)])
