"""Forms for curating institutions: confirming (or editing) one, and merging one into another."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, StopValidation

from forum.models.institutions import NAME_LENGTH


def _stripped(value: str | None) -> str:
    return (value or "").strip()


def _required(message):
    def check(form, field) -> None:
        if not (field.data or "").strip():
            raise StopValidation(message)

    return check


class ConfirmInstitutionForm(FlaskForm):
    name = StringField(
        _l("Canonical name"),
        filters=[_stripped],
        validators=[_required(_l("Give the institution a name.")), Length(max=NAME_LENGTH)],
    )
    domains = TextAreaField(
        _l("Email domains"),
        description=_l(
            "One per line, like ed.ac.uk; subdomains count too. Applicants writing from one "
            "are marked to reviewers."
        ),
        filters=[_stripped],
        validators=[Length(max=5000)],
    )


class MergeInstitutionForm(FlaskForm):
    into = StringField(
        _l("Merge into"),
        description=_l("The institution this one really is (its name or another spelling)."),
        filters=[_stripped],
        validators=[
            _required(_l("Name the institution to merge into.")),
            Length(max=NAME_LENGTH),
        ],
    )
