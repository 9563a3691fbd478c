"""Bookmarking a post, and a bookmark's note and reminder (issue 17)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from forum.forms.discussions import _strip
from forum.forms.fields import MomentField
from forum.models.bookmarks import BOOKMARK_NOTE_MAX_LENGTH


class BookmarkForm(FlaskForm):
    """The note and reminder of a bookmark; both may stay empty (the one-click bookmark)."""

    note = TextAreaField(
        _l("Note"),
        filters=[_strip],
        validators=[
            Length(
                max=BOOKMARK_NOTE_MAX_LENGTH,
                message=_l("Keep the note under %(max)d characters.", max=BOOKMARK_NOTE_MAX_LENGTH),
            )
        ],
        description=_l("Only you see it."),
    )
    remind_at = MomentField(
        _l("Remind me at"),
        validators=[Optional()],
        description=_l("In your time zone. Leave empty for no reminder."),
    )

    def validate_remind_at(self, field) -> None:
        """Read the time in the member's zone (flask_babel's, from their profile) as UTC."""
        field.utc = None
        if field.data is None:
            return
        try:
            zone = ZoneInfo(str(get_timezone()))  # babel may hand a pytz zone: not for replace()
            field.utc = field.data.replace(tzinfo=zone).astimezone(UTC)
        except (OverflowError, ValueError):  # year 1 or 9999 pushed past what a date holds
            raise ValidationError(field.invalid_value_message) from None

    def show_reminder(self, moment: datetime | None) -> None:
        """Fill the field with a stored reminder, as the member's local time."""
        if moment is not None:
            zone = ZoneInfo(str(get_timezone()))
            self.remind_at.data = moment.astimezone(zone).replace(tzinfo=None)

    @property
    def remind_at_utc(self) -> datetime | None:
        return getattr(self.remind_at, "utc", None)
