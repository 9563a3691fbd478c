"""Form fields shared by several forms, and the one way a number is read from what was typed."""

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    DateTimeLocalField,
    EmailField,
    IntegerField,
    SelectMultipleField,
    widgets,
)
from wtforms.validators import Email, InputRequired, Length, ValidationError

from forum.names import TextRefused, check_display_name, check_title

# The largest id any database here stores (ids are PostgreSQL integers); larger ones never exist.
MAX_ID = 2**31 - 1

# Only 0-9: str.isdigit() also accepts ² and ①, which int() refuses, and int() reads ٣ as 3;
# a number the forum reads must be one the member can see it read (issue 13).
_ASCII_DIGITS = re.compile(r"[0-9]+")
_MAX_DIGITS = len(str(MAX_ID))


def whole_number(text: str | int | None, *, most: int = MAX_ID) -> int | None:
    """The whole number ``text`` spells in the digits 0-9 (spaces around allowed), if it is at
    most ``most``; else None. Signs, ², ①, ٣ and 50,000-digit strings are all None."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text if 0 <= text <= most else None
    text = str(text or "").strip()
    if not _ASCII_DIGITS.fullmatch(text) or len(text.lstrip("0")) > _MAX_DIGITS:
        return None
    number = int(text)
    return number if number <= most else None


def number_choice(value: str | int) -> int:
    """``coerce=`` for a choice of ids or small numbers: ValueError (WTForms' message about an
    invalid choice) for anything but plain digits within the id range."""
    number = whole_number(value)
    if number is None:
        raise ValueError(value)
    return number


class WholeNumberField(IntegerField):
    """IntegerField reading only the digits 0-9, with a message for anything else."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist:
            return
        text = valuelist[0].strip()
        self.data = whole_number(text)
        if not text or self.data is not None:  # empty is for InputRequired or Optional to judge
            return
        if _ASCII_DIGITS.fullmatch(text):
            raise ValueError(_l("This number is too large."))
        raise ValueError(_l("Enter a whole number using the digits 0 to 9."))


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


class DayField(DateField):
    """A calendar day (<input type="date">), typed in the member's time zone."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("invalid_value_message", _l("Give a date like 2030-03-01."))
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        if not all(value.isascii() for value in valuelist):  # strptime reads ٢٠٣٠ as 2030
            self.data = None
            raise ValueError(self.invalid_value_message)
        super().process_formdata(valuelist)


class MomentField(DateTimeLocalField):
    """A day and time (<input type="datetime-local">), in the digits 0-9 only."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("format", "%Y-%m-%dT%H:%M")
        kwargs.setdefault("invalid_value_message", _l("Give a day and time like 2030-03-01 09:30."))
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        if not all(value.isascii() for value in valuelist):
            self.data = None
            raise ValueError(self.invalid_value_message)
        super().process_formdata(valuelist)


def at_most(limit: int) -> Length:
    """A length limit that says it in the forum's words (and translations)."""
    return Length(max=limit, message=_l("Keep this under %(max)d characters.", max=limit))


def plain_display_name(form, field) -> None:
    """A validator: forum/names.py's rules for a display name (no direction controls, nothing
    invisible, something visible). Whether it looks like a member's is the service's question."""
    try:
        check_display_name(field.data or "")
    except TextRefused as error:
        raise ValidationError(error.message) from None


def plain_title(form, field) -> None:
    """A validator: forum/names.py's rules for a topic, agenda item or round title (an empty
    one is left to the field's own required message)."""
    if not field.data:
        return
    try:
        check_title(field.data or "")
    except TextRefused as error:
        raise ValidationError(error.message) from None


def after_today(form, field) -> None:
    """A validator: the day is after today where the member is (an embargo ends in the future)."""
    if field.data is not None and field.data <= datetime.now(get_timezone()).date():
        raise ValidationError(_l("Choose a date after today."))


def start_of_day(day: date, zone: str) -> datetime:
    """The moment ``day`` begins in the time zone ``zone``, as an aware UTC datetime."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(zone)).astimezone(UTC)
