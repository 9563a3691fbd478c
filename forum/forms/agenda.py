"""Forms for agenda items, their statuses, voting rounds, and reading a submitted ballot."""

from __future__ import annotations

from collections.abc import Mapping
from zoneinfo import ZoneInfo, available_timezones

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from forum.forms.accounts import timezone_choices
from forum.forms.fields import (
    MomentField,
    MultiCheckboxField,
    WholeNumberField,
    number_choice,
    plain_title,
    whole_number,
)
from forum.forms.one_time import OneTimeForm
from forum.links import canonical_url
from forum.models import VotingMethod, VotingRound
from forum.models.types import utcnow
from forum.services.voting import ROUND_CLOSES_IN_THE_PAST, BallotRejected

AREA_CHOICES = [
    SelectChoice("privacy", _l("Privacy")),
    SelectChoice("safety", _l("Safety")),
    SelectChoice("security", _l("Security")),
    SelectChoice("model-improvement", _l("Model improvement")),
    SelectChoice("other", _l("Other")),
]
STATUS_CHOICES = [
    SelectChoice("proposed", _l("Proposed")),
    SelectChoice("on_ballot", _l("On ballot")),
    SelectChoice("prioritised", _l("Prioritised")),
    SelectChoice("in_progress", _l("In progress")),
    SelectChoice("addressed", _l("Addressed")),
    SelectChoice("declined", _l("Declined")),
]
METHOD_CHOICES = [
    SelectChoice("budget", _l("Budget (dot voting): spread points")),
    SelectChoice("approval", _l("Approval: approve any number")),
    SelectChoice("ranked", _l("Ranked (Schulze): order the items")),
    SelectChoice("quadratic", _l("Quadratic: n votes cost n² credits")),
]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class AgendaItemForm(OneTimeForm):
    title = StringField(
        _l("Research question"),
        filters=[_strip],
        validators=[
            DataRequired(_l("State the question in one line.")),
            Length(max=200),
            plain_title,
        ],
    )
    area = SelectField(_l("Area"), choices=AREA_CHOICES, default="privacy")
    statement = TextAreaField(
        _l("Problem statement"),
        validators=[DataRequired(_l("Describe the problem.")), Length(max=10_000)],
    )
    rationale = TextAreaField(
        _l("Why it matters"),
        validators=[DataRequired(_l("Say why it matters.")), Length(max=10_000)],
    )
    evidence = TextAreaField(
        _l("Evidence links (optional)"),
        description=_l("Papers, datasets or forum topics: one web address per line."),
        validators=[Optional(), Length(max=5_000)],
    )

    def validate_evidence(self, field) -> None:
        for line in self.evidence_links():
            if canonical_url(line) is None:
                raise ValidationError(_l("This is not a web address: %(line)s", line=line))

    def evidence_links(self) -> list[str]:
        return [line.strip() for line in (self.evidence.data or "").splitlines() if line.strip()]


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"), choices=STATUS_CHOICES)
    note = TextAreaField(
        _l("Note"),
        description=_l("Shown in the item's history."),
        validators=[DataRequired(_l("Say why the status changes.")), Length(max=2000)],
    )
    # Keys such as "paper:12" of the linked things the moderator may see; the service checks
    # them (agenda.change_status), so a forged or stale key gets its message, not a 500.
    addressed_by = MultiCheckboxField(
        _l("Addressed by"),
        description=_l("For “Addressed”: which of these addressed it."),
        choices=[],
        validate_choice=False,
    )


class RoundForm(FlaskForm):
    title = StringField(
        _l("Title"),
        filters=[_strip],
        validators=[DataRequired(_l("Name the round.")), Length(max=200), plain_title],
    )
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    # InputRequired, not DataRequired: a time typed but unreadable keeps MomentField's message.
    opens_at = MomentField(_l("Opens"), validators=[InputRequired(_l("When does it open?"))])
    closes_at = MomentField(_l("Closes"), validators=[InputRequired(_l("When does it close?"))])
    timezone = SelectField(_l("Time zone of these times"), choices=timezone_choices, default="UTC")
    method = SelectField(_l("Method"), choices=METHOD_CHOICES, default="budget")
    items = MultiCheckboxField(
        _l("Agenda items on the ballot"), coerce=number_choice, choices=[], validate_choice=False
    )
    budget = WholeNumberField(
        _l("Points per member (budget)"), default=10, validators=[NumberRange(1, 1000)]
    )
    per_item_cap = WholeNumberField(
        _l("Most points on one item (budget)"), default=5, validators=[NumberRange(1, 1000)]
    )
    credits = WholeNumberField(
        _l("Credits per member (quadratic)"), default=100, validators=[NumberRange(1, 10_000)]
    )
    show_running_tally = BooleanField(_l("Show the running tally while the round is open"))
    late_joiners_may_vote = BooleanField(
        _l("Members who join after the round opens may vote"), default=True
    )
    institution_share = WholeNumberField(
        _l("Most of an item's total one institution may give (%)"),
        description=_l("Leave empty for no cap."),
        validators=[Optional(), NumberRange(10, 100)],
    )

    def validate_closes_at(self, field) -> None:
        if field.data and self.opens_at.data and field.data <= self.opens_at.data:
            raise ValidationError(_l("The round must close after it opens."))
        zone = self.timezone.data if self.timezone.data in available_timezones() else "UTC"
        if field.data and field.data.replace(tzinfo=ZoneInfo(zone)) <= utcnow():
            raise ValidationError(ROUND_CLOSES_IN_THE_PAST)

    def validate_items(self, field) -> None:
        if len(set(field.data or [])) < 2:
            raise ValidationError(_l("Put at least two agenda items on the ballot."))


# --- Ballots: one box per item on the round's ballot, named item-<id> ---------------------------


def typed_ballot(round_: VotingRound, formdata: Mapping[str, str]) -> dict[int, str]:
    """What the member typed in each item's box, stripped (shown again if the ballot is refused)."""
    return {item.id: formdata.get(f"item-{item.id}", "").strip() for item in round_.items}


def ballot_entries(round_: VotingRound, typed: Mapping[int, str]) -> dict[int, int]:
    """The typed boxes as numbers: a ticked approval is 1 (unticked 0), an empty box is left out;
    BallotRejected for anything that is not a whole number."""
    entries = {}
    for item_id, text in typed.items():
        if round_.method == VotingMethod.APPROVAL:
            entries[item_id] = 1 if text else 0
        elif text:
            number = whole_number(text)
            if number is None:
                raise BallotRejected(_("Enter whole numbers (or leave a box empty)."))
            entries[item_id] = number
    return entries
