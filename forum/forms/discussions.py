"""Forms for topics and posts."""

import re

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

from forum.forms.attachments import AttachmentsForm
from forum.forms.fields import (
    DayField,
    MultiCheckboxField,
    after_today,
    number_choice,
    plain_title,
)
from forum.forms.one_time import OneTimeForm
from forum.links import canonical_url, normalise_doi
from forum.markup import Bound, Excess, check_bounds
from forum.models.discussions import BODY_MAX_LENGTH, TITLE_MAX_LENGTH
from forum.services.disclosure import find_members
from forum.services.posting import MAX_TAGS_PER_TOPIC


def _formatted(number: int) -> LazyString:
    """A number written the reader's way (50,000 in English, ٥٠٬٠٠٠ in Arabic), when shown."""
    return LazyString(format_number, number)


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _not_blank(form, field) -> None:
    if not (field.data or "").strip():
        raise StopValidation(_l("Write something before posting."))


def _bound_message(excess: Excess) -> LazyString:
    n, found = _formatted(excess.limit), _formatted(excess.found)
    match excess.bound:
        case Bound.ELEMENTS:
            return _l(
                "Too much formatting: a post may have at most %(n)s paragraphs, list items, "
                "table cells, links and other formatted pieces (this one has %(found)s).",
                n=n,
                found=found,
            )
        case Bound.TABLE_ROWS:
            return _l(
                "Tables may have at most %(n)s rows in one post (these have %(found)s).",
                n=n,
                found=found,
            )
        case Bound.LINKS:
            return _l(
                "A post may hold at most %(n)s links, counting bare addresses and @mentions "
                "(this one has %(found)s).",
                n=n,
                found=found,
            )
        case Bound.NESTING_DEPTH:
            return _l(
                "Lists and quotes may be nested at most %(n)s levels deep "
                "(these go %(found)s deep).",
                n=n,
                found=found,
            )
        case Bound.MARKS:
            return _l(
                "A post may use at most %(n)s formatting marks (* _ ~ ` [ ] \\) outside code "
                "blocks (this one has %(found)s).",
                n=n,
                found=found,
            )
        case Bound.ESCAPED_CHARACTERS:
            return _l(
                'A post may hold at most %(n)s of the characters < > & " (this one has %(found)s).',
                n=n,
                found=found,
            )


def _within_bounds(form, field) -> None:
    """What a body holds must render in bounded time (issue 13); a long body is refused first."""
    if field.errors or len(field.data or "") > BODY_MAX_LENGTH:
        return
    # str(): a LazyString passes as markup (it has __html__), and these messages show < > & ".
    messages = [str(_bound_message(excess)) for excess in check_bounds(field.data or "")]
    if messages:
        field.errors.extend(messages[1:])
        raise ValidationError(messages[0])


KIND_CHOICES = [
    SelectChoice("question", _l("Question")),
    SelectChoice("discussion", _l("Discussion")),
    SelectChoice("resource", _l("Resource (paper, dataset, link)")),
]


def _body_field(label) -> TextAreaField:
    # NUL never belongs in text, and PostgreSQL refuses it: dropped as the form reads it.
    return TextAreaField(
        label,
        description=_l("Markdown: **bold**, *italic*, [links](https://…), lists, tables, `code`."),
        validators=[
            _not_blank,
            Length(
                max=BODY_MAX_LENGTH,
                message=_l("Keep it under %(n)s characters.", n=_formatted(BODY_MAX_LENGTH)),
            ),
            _within_bounds,
        ],
    )


# How many members an author may invite while opening a restricted topic (more come later).
MAX_INVITED_AT_ONCE = 20
_HANDLE_SEPARATORS = re.compile(r"[\s,;]+")


def handles_in(text: str | None) -> list[str]:
    """The @handles in what was typed (separated by spaces or commas), lower-case, each once."""
    words = (w.lstrip("@").lower() for w in _HANDLE_SEPARATORS.split(text or ""))
    return list(dict.fromkeys(w for w in words if w))


class TopicForm(AttachmentsForm, OneTimeForm):
    title = StringField(
        _l("Title"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Give the topic a title.")),
            Length(
                max=TITLE_MAX_LENGTH,
                message=_l("Keep the title under %(n)d characters.", n=TITLE_MAX_LENGTH),
            ),
            plain_title,
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
        coerce=number_choice,
        choices=[],
        validate_choice=False,
    )
    body = _body_field(_l("Body"))
    # Set when the author has seen that the link was already shared and posts anyway.
    confirm_duplicate = BooleanField(_l("Post it anyway: it adds something new"))
    # Only in sensitive areas (see without_restriction): a hazardous finding, disclosed later.
    restricted = BooleanField(
        _l("Restricted until a date: only moderators and the members I invite see it")
    )
    restricted_until = DayField(
        _l("Restricted until"),
        description=_l("On this day it opens to every reader of the area."),
        validators=[Optional(), after_today],
    )
    invite = StringField(
        _l("Members to invite (optional)"),
        description=_l("Their @handles, separated by spaces or commas."),
        filters=[_strip],
        validators=[Length(max=1000, message=_l("Keep the list under %(n)d characters.", n=1000))],
    )
    # The members named in ``invite``, found while validating.
    invited_members: list = []

    def without_restriction(self) -> None:
        """For areas where topics cannot be restricted: the form has no such fields."""
        del self.restricted, self.restricted_until, self.invite

    @property
    def is_restricted(self) -> bool:
        return "restricted" in self and bool(self.restricted.data)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if "restricted" in self and not self._validate_restriction():
            valid = False
        if self.kind.data == "resource" and not self.resource_url.data and not self.doi.data:
            self.resource_url.errors = [
                *self.resource_url.errors,
                _l("A resource needs a link or a DOI."),
            ]
            return False
        return valid

    def _validate_restriction(self) -> bool:
        # Unticked with a date or names typed: perhaps forgotten; a hazardous finding posted
        # openly cannot be taken back, so ask rather than guess.
        if not self.restricted.data:
            for extra in (self.restricted_until, self.invite):
                if extra.raw_data and extra.raw_data[0].strip() and not extra.errors:
                    extra.errors = [_l("Tick “Restricted” above, or leave this empty.")]
            return not (self.restricted_until.errors or self.invite.errors)
        if self.restricted_until.data is None and not self.restricted_until.errors:
            self.restricted_until.errors = [_l("Give the day the restriction ends.")]
        return not (self.restricted_until.errors or self.invite.errors)

    def validate_invite(self, field) -> None:
        self.invited_members = []
        handles = handles_in(field.data)
        if not handles or not self.restricted.data:  # unticked: _validate_restriction asks
            return
        if len(handles) > MAX_INVITED_AT_ONCE:
            raise ValidationError(
                _l("Invite at most %(n)d members now; let more in later.", n=MAX_INVITED_AT_ONCE)
            )
        found = find_members(handles)
        unknown = [h for h in handles if h not in found]
        if unknown:
            named = ", ".join(f"@{h[:40]}" for h in unknown[:5])
            raise ValidationError(_l("No member has the handle %(handles)s.", handles=named))
        self.invited_members = [found[h] for h in handles]

    def validate_resource_url(self, field) -> None:
        if field.data and canonical_url(field.data) is None:
            raise ValidationError(_l("Enter a web address starting with https://"))

    def validate_doi(self, field) -> None:
        if field.data and normalise_doi(field.data) is None:
            raise ValidationError(_l("This is not a DOI: it looks like 10.1234/something."))

    def validate_tags(self, field) -> None:
        if len(field.data or []) > MAX_TAGS_PER_TOPIC:
            raise ValidationError(_l("Choose at most %(n)d tags.", n=MAX_TAGS_PER_TOPIC))


class ReplyForm(AttachmentsForm, OneTimeForm):
    body = _body_field(_l("Your reply"))
    parent_id = HiddenField()


class EditPostForm(AttachmentsForm):
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


class PreviewForm(FlaskForm):
    """The body the composer's live preview renders, judged as the real field judges it.

    No token field: the JSON request carries the token in its X-CSRFToken header, which
    CSRFProtect checks before the view runs.
    """

    class Meta:
        csrf = False

    body = _body_field(_l("Body"))
