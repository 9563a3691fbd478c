"""Creating and editing a workshop; registering for one (issue 18)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from forum.forms.accounts import timezone_choices
from forum.forms.fields import MomentField, WholeNumberField, at_most, plain_title
from forum.forms.one_time import OneTimeForm
from forum.links import canonical_url
from forum.models.workshops import (
    SESSION_NOTES_MAX_LENGTH,
    WORKSHOP_CAPACITY_MAX,
    WORKSHOP_DESCRIPTION_MAX_LENGTH,
    WORKSHOP_LINK_MAX_LENGTH,
    WORKSHOP_PLACE_MAX_LENGTH,
    WORKSHOP_TITLE_MAX_LENGTH,
    Workshop,
)
from forum.services.workshop_sessions import SessionDraft
from forum.services.workshops import WorkshopDraft

MOMENTS = ("starts_at", "ends_at", "registration_closes_at")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _web_link(form, field) -> None:
    if field.data and canonical_url(field.data) is None:
        raise ValidationError(_l("Give a web address starting with https:// or http://."))


class WorkshopForm(OneTimeForm):
    title = StringField(
        _l("Title"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Name the workshop.")),
            Length(max=WORKSHOP_TITLE_MAX_LENGTH),
            plain_title,
        ],
    )
    description = TextAreaField(
        _l("Description"),
        validators=[Length(max=WORKSHOP_DESCRIPTION_MAX_LENGTH)],
        description=_l("Markdown. What the workshop is about and who it is for."),
    )
    starts_at = MomentField(_l("Starts"), validators=[InputRequired(_l("When does it start?"))])
    ends_at = MomentField(_l("Ends"), validators=[InputRequired(_l("When does it end?"))])
    timezone = SelectField(_l("Time zone of these times"), choices=timezone_choices, default="UTC")
    place = StringField(
        _l("Place"), filters=[_strip], validators=[Length(max=WORKSHOP_PLACE_MAX_LENGTH)]
    )
    online_url = StringField(
        _l("Online link"),
        filters=[_strip],
        validators=[Length(max=WORKSHOP_LINK_MAX_LENGTH), _web_link],
    )
    link_for_participants_only = BooleanField(
        _l("Show the online link only to registered participants"), default=True
    )
    capacity = WholeNumberField(
        _l("Seats"),
        validators=[
            InputRequired(_l("How many people can take part?")),
            NumberRange(1, WORKSHOP_CAPACITY_MAX),
        ],
    )
    registration_closes_at = MomentField(
        _l("Registration closes"),
        validators=[Optional()],
        description=_l("Leave empty to take registrations until the workshop starts."),
    )

    def validate_timezone(self, field) -> None:
        if field.data not in available_timezones():
            raise ValidationError(_l("Choose a time zone from the list."))

    def _utc(self, moment: datetime | None) -> datetime | None:
        if moment is None:
            return None
        zone = ZoneInfo(
            self.timezone.data if self.timezone.data in available_timezones() else "UTC"
        )
        return moment.replace(tzinfo=zone).astimezone(UTC)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for name in MOMENTS:  # year 1 or 9999 pushed past what a date holds
            field = getattr(self, name)
            try:
                self._utc(field.data)
            except (OverflowError, ValueError):
                field.errors = [*field.errors, field.invalid_value_message]
                valid = False
        return valid

    def draft(self) -> WorkshopDraft:
        return WorkshopDraft(
            title=self.title.data,
            description=self.description.data or "",
            starts_at=self._utc(self.starts_at.data),
            ends_at=self._utc(self.ends_at.data),
            timezone=self.timezone.data,
            capacity=self.capacity.data,
            place=self.place.data or "",
            online_url=self.online_url.data or "",
            link_for_participants_only=self.link_for_participants_only.data,
            registration_closes_at=self._utc(self.registration_closes_at.data),
        )

    def show(self, workshop: Workshop) -> None:
        """Fill the form with a stored workshop, times in its organiser's zone."""
        zone = ZoneInfo(workshop.timezone)
        for name in ("title", "description", "timezone", "place", "online_url", "capacity"):
            getattr(self, name).data = getattr(workshop, name)
        self.link_for_participants_only.data = workshop.link_for_participants_only
        for name in MOMENTS:
            moment = getattr(workshop, name)
            getattr(self, name).data = (
                moment.astimezone(zone).replace(tzinfo=None) if moment else None
            )


class RegistrationForm(FlaskForm):
    listed = BooleanField(_l("List my name among the participants"))


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in re.split(r"[\n,]", text or "") if line.strip()]


class SessionForm(FlaskForm):
    """A session, its times typed in the workshop's own time zone."""

    title = StringField(
        _l("Session title"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Name the session.")),
            Length(max=WORKSHOP_TITLE_MAX_LENGTH),
            plain_title,
        ],
    )
    starts_at = MomentField(_l("Starts"), validators=[InputRequired(_l("When does it start?"))])
    ends_at = MomentField(_l("Ends"), validators=[InputRequired(_l("When does it end?"))])
    room = StringField(_l("Room"), filters=[_strip], validators=[Length(max=200)])
    chairs = StringField(
        _l("Chairs"),
        validators=[Length(max=1000)],
        description=_l("Members' @handles, separated by commas."),
    )
    agenda_items = TextAreaField(
        _l("Agenda items it takes up"),
        validators=[Length(max=3000)],
        description=_l("One agenda item number or address a line."),
    )
    topics = TextAreaField(
        _l("Topics it takes up"),
        validators=[Length(max=3000)],
        description=_l("One topic number or address a line."),
    )

    def draft(self, zone_name: str) -> SessionDraft | None:
        """The session as UTC times, or None (the field's message added) for a time that
        cannot be stored."""
        zone = ZoneInfo(zone_name)
        moments = {}
        for name in ("starts_at", "ends_at"):
            try:
                moments[name] = getattr(self, name).data.replace(tzinfo=zone).astimezone(UTC)
            except (OverflowError, ValueError):
                getattr(self, name).errors.append(getattr(self, name).invalid_value_message)
                return None
        return SessionDraft(
            title=self.title.data,
            room=self.room.data or "",
            chair_handles=_lines(self.chairs.data),
            agenda_item_refs=_lines(self.agenda_items.data),
            topic_refs=_lines(self.topics.data),
            **moments,
        )


class OrganiserForm(FlaskForm):
    handle = StringField(
        _l("Member's @handle"),
        filters=[_strip],
        validators=[DataRequired(_l("Whom do you let organise?")), Length(max=31)],
    )


class OutcomesForm(FlaskForm):
    """A session's notes and what came out of it (once it has started)."""

    notes = TextAreaField(
        _l("Notes and outcomes"),
        validators=[at_most(SESSION_NOTES_MAX_LENGTH)],
        description=_l("Markdown. What was discussed, decided, and left open."),
    )
    outcomes = TextAreaField(
        _l("What came out of it"),
        validators=[at_most(6000)],
        description=_l(
            "One address a line: a guideline section (…/guidelines/3#section-12), a paper "
            "(…/papers/7), or an agenda item whose status changed since the session (…/agenda/5)."
        ),
    )

    @property
    def lines(self) -> list[str]:
        return [line.strip() for line in (self.outcomes.data or "").splitlines() if line.strip()]
