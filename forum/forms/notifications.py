"""The email preferences form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField
from wtforms.validators import NumberRange

from forum.forms.fields import number_choice

FREQUENCIES = [
    SelectChoice("daily", _l("Daily")),
    SelectChoice("weekly", _l("Weekly")),
    SelectChoice("off", _l("Off")),
]
WEEKDAYS = [
    SelectChoice(0, _l("Monday")),
    SelectChoice(1, _l("Tuesday")),
    SelectChoice(2, _l("Wednesday")),
    SelectChoice(3, _l("Thursday")),
    SelectChoice(4, _l("Friday")),
    SelectChoice(5, _l("Saturday")),
    SelectChoice(6, _l("Sunday")),
]


class EmailPreferencesForm(FlaskForm):
    email_immediate = BooleanField(
        _l(
            "Email me at once about what concerns me: mentions, replies, a workshop seat that is "
            "mine, a decision on my suggested edit"
        )
    )
    email_reminders = BooleanField(
        _l(
            "Email me reminders: the day before a workshop I hold a seat at, a week and a day "
            "before the deadlines of papers I co-author"
        )
    )
    digest_frequency = SelectField(_l("Digest"), choices=FREQUENCIES, default="weekly")
    digest_hour = SelectField(
        _l("Hour (in your time zone)"),
        coerce=number_choice,
        choices=[SelectChoice(h, f"{h:02d}:00") for h in range(24)],
        validators=[NumberRange(0, 23)],
    )
    digest_weekday = SelectField(_l("Day (weekly digest)"), coerce=number_choice, choices=WEEKDAYS)
    auto_watch = BooleanField(_l("Watch the topics I create or reply to"))
