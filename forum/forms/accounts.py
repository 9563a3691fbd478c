"""Forms for registering, logging in and editing a profile."""

from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import EqualTo, InputRequired, Length, Optional, ValidationError

from forum.forms.fields import EmailAddressField, plain_display_name
from forum.links import normalise_orcid
from forum.services.accounts import PASSWORD_MIN_LENGTH, ProfileChanges

LANGUAGE_CHOICES = [
    SelectChoice("", _l("Browser default")),
    SelectChoice("en", "English"),
    SelectChoice("ar", "العربية"),
]


class RegisterForm(FlaskForm):
    email = EmailAddressField()
    display_name = StringField(
        _l("Display name"),
        validators=[
            InputRequired(_l("Enter the name others will see.")),
            Length(max=80),
            plain_display_name,
        ],
    )
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


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[InputRequired(_l("Enter your email address."))])
    password = PasswordField(_l("Password"), validators=[InputRequired(_l("Enter your password."))])


def orcid_id(form, field) -> None:
    """Accept an ORCID iD only with a right check digit, and store it in its standard form."""
    if field.data:
        normalised = normalise_orcid(field.data)
        if normalised is None:
            raise ValidationError(
                _l("Not a valid ORCID iD: check the digits (the last one is a checksum).")
            )
        field.data = normalised


def web_address(form, field) -> None:
    if field.data and not field.data.lower().startswith(("http://", "https://")):
        raise ValidationError(_l("Enter a web address starting with https://"))


def timezone_choices() -> list[SelectChoice]:
    return [SelectChoice(tz) for tz in sorted(available_timezones()) if "/" in tz or tz == "UTC"]


class ProfileForm(FlaskForm):
    display_name = StringField(
        _l("Display name"),
        validators=[
            InputRequired(_l("Enter the name others will see.")),
            Length(max=80),
            plain_display_name,
        ],
    )
    affiliation = StringField(
        _l("Affiliation (institution)"),
        description=_l(
            "Pick it from the list as you type. Not listed? Type its full name and moderators "
            "will add it."
        ),
        validators=[Optional(), Length(max=200)],
    )
    department = StringField(_l("Department"), validators=[Optional(), Length(max=200)])
    disciplines = StringField(
        _l("Research disciplines"),
        description=_l("Separate them with commas, e.g. Computer science, Law, Ethics."),
        validators=[Optional(), Length(max=300)],
    )
    position = StringField(_l("Position"), validators=[Optional(), Length(max=120)])
    bio = TextAreaField(_l("Short bio"), validators=[Optional(), Length(max=2000)])
    orcid = StringField(
        _l("ORCID iD"),
        description=_l("Like 0000-0002-1825-0097."),
        validators=[Optional(), orcid_id],
    )
    homepage = URLField(_l("Homepage"), validators=[Optional(), Length(max=500), web_address])

    timezone = SelectField(_l("Time zone"), choices=timezone_choices, default="UTC")
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, default="")
    profile_public = BooleanField(
        _l("Let visitors who are not logged in see my profile"),
        description=_l(
            "Off: only members see your profile. Your name and affiliation still show on your "
            "posts wherever those can be read."
        ),
    )

    def changes(self) -> ProfileChanges:
        """What the member submitted, for update_profile (blank language: the browser's)."""
        return ProfileChanges(
            display_name=self.display_name.data,
            affiliation=self.affiliation.data or "",
            department=self.department.data or "",
            disciplines=self.disciplines.data or "",
            bio=self.bio.data or "",
            position=self.position.data or "",
            orcid=self.orcid.data or "",
            homepage=self.homepage.data or "",
            timezone=self.timezone.data,
            locale=self.locale.data or None,
            profile_public=self.profile_public.data,
        )


def new_password_field(label) -> PasswordField:
    """A new password, under the same rules as registering."""
    return PasswordField(
        label,
        validators=[
            InputRequired(_l("Choose a password.")),
            Length(
                min=PASSWORD_MIN_LENGTH,
                max=200,
                message=_l("Use at least %(n)d characters.", n=PASSWORD_MIN_LENGTH),
            ),
        ],
    )


def repeat_password_field(of: str) -> PasswordField:
    return PasswordField(
        _l("Repeat password"),
        validators=[InputRequired(), EqualTo(of, _l("The passwords do not match."))],
    )


def current_password_field() -> PasswordField:
    return PasswordField(
        _l("Current password"), validators=[InputRequired(_l("Enter your current password."))]
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailAddressField()


class ResetPasswordForm(FlaskForm):
    password = new_password_field(_l("New password"))
    confirm = repeat_password_field("password")


class ChangePasswordForm(FlaskForm):
    current_password = current_password_field()
    new_password = new_password_field(_l("New password"))
    confirm = repeat_password_field("new_password")


class ChangeEmailForm(FlaskForm):
    new_email = EmailAddressField(_l("New email address"))
    password = current_password_field()
