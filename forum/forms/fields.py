"""Form fields shared by several forms."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from wtforms import DateField, EmailField, SelectMultipleField, widgets
from wtforms.validators import Email, InputRequired, Length, ValidationError


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes (disciplines, tags, areas)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class EmailAddressField(EmailField):
    """An email address the forum will write to: required, well-formed, and at most 254
    characters (the longest an SMTP path allows); registering and applying both ask for one."""

    def __init__(self, label=None, validators=None, **kwargs):
        if validators is None:
            validators = [
                InputRequired(_l("Enter your email address.")),
                Email(_l("Enter a valid email address."), check_deliverability=False),
                Length(max=254),
            ]
        super().__init__(label or _l("Email"), validators, **kwargs)


def without_nul(value):
    """A filter: NUL characters cannot be stored (PostgreSQL refuses them) and mean nothing."""
    return value.replace("\x00", "") if isinstance(value, str) else value


class DayField(DateField):
    """A calendar day (<input type="date">), typed in the member's time zone."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("invalid_value_message", _l("Give a date like 2030-03-01."))
        super().__init__(label, validators, **kwargs)


def after_today(form, field) -> None:
    """A validator: the day is after today where the member is (an embargo ends in the future)."""
    if field.data is not None and field.data <= datetime.now(get_timezone()).date():
        raise ValidationError(_l("Choose a date after today."))


def start_of_day(day: date, zone: str) -> datetime:
    """The moment ``day`` begins in the time zone ``zone``, as an aware UTC datetime."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(zone)).astimezone(UTC)
