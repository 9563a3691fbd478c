"""Forms for applying to join, reviewing applications, invitations and the admin settings."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import (
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

from forum.forms.accounts import orcid_id, timezone_choices, web_address
from forum.forms.fields import (
    EmailAddressField,
    MomentField,
    MultiCheckboxField,
    WholeNumberField,
    number_choice,
    plain_display_name,
)
from forum.i18n import category_name
from forum.models import Category, RegistrationMode, SiteSettings
from forum.services.accounts import PASSWORD_MIN_LENGTH
from forum.services.applications import (
    DISCIPLINES,
    STATEMENT_MAX_WORDS,
    ApplicationDraft,
    count_words,
)
from forum.services.reviews import Scores
from forum.services.site_settings import SettingsChanges


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _required(message):
    def check(form, field) -> None:
        if not (field.data or "").strip():
            raise StopValidation(message)

    return check


def discipline_choices() -> list[SelectChoice]:
    return [SelectChoice(key, _l(label)) for key, label in DISCIPLINES.items()]


class ApplicationForm(FlaskForm):
    full_name = StringField(
        _l("Full name"),
        filters=[_strip],
        validators=[_required(_l("Enter your full name.")), Length(max=120), plain_display_name],
    )
    email = EmailAddressField(filters=[_strip])
    institution = StringField(
        _l("Institution"),
        description=_l(
            "University or organisation: pick it from the list as you type. Not listed? "
            "Type its full name and moderators will add it."
        ),
        filters=[_strip],
        validators=[_required(_l("Enter your institution.")), Length(max=200)],
    )
    position = StringField(
        _l("Position"),
        description=_l("For example: Associate Professor, Postdoctoral researcher."),
        filters=[_strip],
        validators=[_required(_l("Enter your position.")), Length(max=120)],
    )
    department = StringField(_l("Department"), filters=[_strip], validators=[Length(max=200)])
    disciplines = MultiCheckboxField(
        _l("Research disciplines"),
        description=_l("Choose all that apply."),
        choices=discipline_choices,
    )
    disciplines_other = StringField(
        _l("Other discipline"), filters=[_strip], validators=[Length(max=200)]
    )
    ai_experience = TextAreaField(
        _l("Relevant AI experience"),
        description=_l("Research, teaching, policy or practice involving AI systems."),
        validators=[_required(_l("Describe your experience with AI.")), Length(max=5000)],
    )
    statement = TextAreaField(
        _l("Statement of interest"),
        description=_l(
            "Why you want to join and what you would bring (at most %(n)d words).",
            n=STATEMENT_MAX_WORDS,
        ),
        validators=[_required(_l("Write a statement of interest.")), Length(max=20000)],
    )
    homepage = URLField(
        _l("Homepage (optional)"),
        filters=[_strip],
        validators=[Optional(), Length(max=500), web_address],
    )
    orcid = StringField(
        _l("ORCID iD (optional)"),
        description=_l("Like 0000-0002-1825-0097."),
        filters=[_strip],
        validators=[Optional(), Length(max=40), orcid_id],
    )

    def draft(self, *, locale: str) -> ApplicationDraft:
        """What the applicant typed, for submit_application."""
        return ApplicationDraft(
            full_name=self.full_name.data or "",
            email=self.email.data or "",
            institution=self.institution.data or "",
            position=self.position.data or "",
            department=self.department.data or "",
            disciplines=self.disciplines.data or [],
            disciplines_other=self.disciplines_other.data or "",
            ai_experience=self.ai_experience.data or "",
            statement=self.statement.data or "",
            homepage=self.homepage.data or "",
            orcid=self.orcid.data or "",
            locale=locale,
        )

    def validate_disciplines(self, field) -> None:
        if not field.data and not (self.disciplines_other.data or "").strip():
            raise ValidationError(_l("Choose at least one discipline, or name it under Other."))

    def validate_disciplines_other(self, field) -> None:
        if "other" in (self.disciplines.data or []) and not (field.data or "").strip():
            raise ValidationError(_l("Name your other discipline."))

    def validate_statement(self, field) -> None:
        words = count_words(field.data)
        if words > STATEMENT_MAX_WORDS:
            raise ValidationError(
                _l(
                    "Your statement has %(words)d words; the limit is %(n)d.",
                    words=words,
                    n=STATEMENT_MAX_WORDS,
                )
            )


class ScoreForm(FlaskForm):
    relevance = WholeNumberField(
        _l("Relevance of AI experience (1-5)"),
        validators=[InputRequired(_l("Give a score from 1 to 5.")), NumberRange(1, 5)],
    )
    relevance_comment = TextAreaField(_l("Comment"), validators=[Length(max=2000)])
    fit = WholeNumberField(
        _l("Fit with the privacy, safety and security focus (1-5)"),
        validators=[InputRequired(_l("Give a score from 1 to 5.")), NumberRange(1, 5)],
    )
    fit_comment = TextAreaField(_l("Comment"), validators=[Length(max=2000)])
    breadth = WholeNumberField(
        _l("Contribution to the range of disciplines (1-5)"),
        validators=[InputRequired(_l("Give a score from 1 to 5.")), NumberRange(1, 5)],
    )
    breadth_comment = TextAreaField(_l("Comment"), validators=[Length(max=2000)])

    def scores(self) -> Scores:
        return Scores(
            relevance=self.relevance.data,
            fit=self.fit.data,
            breadth=self.breadth.data,
            relevance_comment=self.relevance_comment.data or "",
            fit_comment=self.fit_comment.data or "",
            breadth_comment=self.breadth_comment.data or "",
        )


class ApproveForm(FlaskForm):
    pass


class RejectForm(FlaskForm):
    note = TextAreaField(
        _l("Note to the applicant"),
        description=_l("Emailed to the applicant with the decision."),
        validators=[_required(_l("Write a note to the applicant.")), Length(max=5000)],
    )


class RequestInfoForm(FlaskForm):
    question = TextAreaField(
        _l("What would you like to know?"),
        validators=[_required(_l("Write your question.")), Length(max=5000)],
    )


class AnswerForm(FlaskForm):
    answer = TextAreaField(
        _l("Your answer"), validators=[_required(_l("Write your answer.")), Length(max=10000)]
    )


class WithdrawForm(FlaskForm):
    pass


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Password"),
        validators=[
            InputRequired(_l("Choose a password.")),
            Length(
                min=PASSWORD_MIN_LENGTH,
                max=200,
                message=_l("Use at least %(n)d characters.", n=PASSWORD_MIN_LENGTH),
            ),
        ],
    )
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[InputRequired(), EqualTo("password", _l("The passwords do not match."))],
    )


REGISTRATION_CHOICES = [
    SelectChoice("application", _l("By application: moderators review who joins")),
    SelectChoice("open", _l("Open: anyone may register")),
]


class SettingsForm(FlaskForm):
    registration_mode = SelectField(_l("Registration"), choices=REGISTRATION_CHOICES)
    applications_open_at = MomentField(_l("Applications open"), validators=[Optional()])
    applications_close_at = MomentField(
        _l("Applications close (deadline)"), validators=[Optional()]
    )
    applications_timezone = SelectField(
        _l("Time zone of these dates"), choices=timezone_choices, default="UTC"
    )
    members_only = MultiCheckboxField(
        _l("Areas only members can read"), coerce=number_choice, choices=[], validate_choice=False
    )
    sensitive = MultiCheckboxField(
        _l("Sensitive areas: authors may restrict topics there until an embargo date"),
        coerce=number_choice,
        choices=[],
        validate_choice=False,
    )

    def offer_areas(self, categories: list[Category]) -> None:
        """The topic areas the two lists of checkboxes choose from."""
        self.members_only.choices = [SelectChoice(c.id, category_name(c)) for c in categories]
        self.sensitive.choices = self.members_only.choices

    def show(self, settings: SiteSettings, categories: list[Category]) -> None:
        """Fill the form with the saved settings, dates in the zone the admin set them in."""
        zone = settings.applications_timezone
        self.registration_mode.data = settings.registration_mode.value
        self.applications_timezone.data = zone
        self.applications_open_at.data = _local(settings.applications_open_at, zone)
        self.applications_close_at.data = _local(settings.applications_close_at, zone)
        self.members_only.data = [c.id for c in categories if c.is_members_only]
        self.sensitive.data = [c.id for c in categories if c.is_sensitive]

    def changes(self) -> SettingsChanges:
        """What the admin submitted, dates read in the zone chosen with them."""
        zone = self.applications_timezone.data
        return SettingsChanges(
            registration_mode=RegistrationMode(self.registration_mode.data),
            applications_open_at=_aware(self.applications_open_at.data, zone),
            applications_close_at=_aware(self.applications_close_at.data, zone),
            applications_timezone=zone,
            members_only_category_ids=set(self.members_only.data or []),
            sensitive_category_ids=set(self.sensitive.data or []),
        )

    def validate_applications_close_at(self, field) -> None:
        opens = self.applications_open_at.data
        if field.data and opens and field.data <= opens:
            raise ValidationError(_l("The deadline must be after the opening time."))


def _local(moment: datetime | None, zone: str) -> datetime | None:
    """A stored UTC moment as the wall-clock time <input type="datetime-local"> shows."""
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None) if moment else None


def _aware(moment: datetime | None, zone: str) -> datetime | None:
    """A wall-clock time typed for ``zone`` as an aware datetime."""
    return moment.replace(tzinfo=ZoneInfo(zone)) if moment else None
