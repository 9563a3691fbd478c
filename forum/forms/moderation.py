"""Forms for flagging a post and for the moderators' post and topic tools: one per action."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, ValidationError

from forum.forms.fields import plain_title
from forum.forms.one_time import OneTimeForm
from forum.models import FlagReason

# What a member may say is wrong with a post: every FlagReason, in the enum's order.
FLAG_REASON_LABELS = {
    FlagReason.OFF_TOPIC: _l("Off-topic"),
    FlagReason.SPAM: _l("Spam"),
    FlagReason.HARASSMENT: _l("Harassment"),
    FlagReason.MISINFORMATION: _l("Misinformation, or needs a source"),
    FlagReason.OTHER: _l("Something else"),
}
FLAG_REASONS = [SelectChoice(reason.value, FLAG_REASON_LABELS[reason]) for reason in FlagReason]

_END_AND_REASON = _l("Give an end date and a reason.")


def _stripped(value: str | None) -> str:
    """A filter: the text without surrounding spaces, and "" for a field the form left out."""
    return (value or "").strip()


def _text(validators=()) -> StringField:
    return StringField(filters=[_stripped], validators=list(validators))


class FlagForm(OneTimeForm):
    reason = RadioField(
        choices=FLAG_REASONS,
        validate_choice=False,  # AnyOf says what to do, in the forum's words
        validators=[
            AnyOf(
                [reason.value for reason in FlagReason],
                message=_l("Choose why you are flagging the post."),
            )
        ],
    )
    note = TextAreaField(filters=[_stripped])

    def validate_note(self, field) -> None:
        if self.reason.data == FlagReason.OTHER and not field.data:
            raise ValidationError(_l("Say what is wrong with the post."))


# --- The post tools (the queue and the post itself) -------------------------------------------


class _PostToolForm(FlaskForm):
    """Only the CSRF token, and the page to go back to."""

    next = HiddenField()


class DismissFlagsForm(_PostToolForm):
    """The flags were not warranted."""


class HidePostForm(_PostToolForm):
    reason = _text([DataRequired(_l("Give the reason readers will see."))])


class RestorePostForm(_PostToolForm):
    """Show a hidden post again."""


class DeletePostForm(_PostToolForm):
    """Delete the post, as its author could."""


class ApprovePostForm(_PostToolForm):
    """First-post review: publish the post."""


class WarnAuthorForm(_PostToolForm):
    message = _text([DataRequired(_l("Write the warning."))])


def _a_moment(form, field) -> None:
    try:
        datetime.fromisoformat(field.data)
    except ValueError:
        raise ValidationError(_END_AND_REASON) from None


class SuspendAuthorForm(_PostToolForm):
    until = _text([DataRequired(_END_AND_REASON), _a_moment])
    reason = _text([DataRequired(_END_AND_REASON)])

    def until_in(self, zone: str) -> datetime:
        """The end of the suspension; a time typed without an offset is read in ``zone``."""
        moment = datetime.fromisoformat(self.until.data)
        return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))


# --- The topic tools ---------------------------------------------------------------------------


class PinTopicForm(FlaskForm):
    scope = _text()  # "forum" pins it across the whole forum; anything else, in its area

    @property
    def globally(self) -> bool:
        return self.scope.data == "forum"


class UnpinTopicForm(FlaskForm):
    """Only the CSRF token."""


class LockTopicForm(FlaskForm):
    note = _text()


class UnlockTopicForm(FlaskForm):
    """Only the CSRF token."""


class MoveTopicForm(FlaskForm):
    category = _text()  # an area's slug; the view looks it up


class FeatureTopicForm(FlaskForm):
    summary = _text([DataRequired(_l("Write the short summary shown with it."))])


class UnfeatureTopicForm(FlaskForm):
    """Only the CSRF token."""


class CloseAsDuplicateForm(FlaskForm):
    topic_id = _text()  # the original's number; the view looks it up
    note = _text()


class MergeTopicForm(FlaskForm):
    topic_id = _text()  # the number of the topic to merge into; the view looks it up
    note = _text()


class SplitTopicForm(FlaskForm):
    title = _text([plain_title])  # the service says what else a title needs
    post_ids = SelectMultipleField(validate_choice=False)
    note = _text()
