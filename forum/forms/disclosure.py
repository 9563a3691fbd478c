"""Forms for restricted topics (who is let in, the embargo date) and private reports."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from forum.forms.discussions import TopicForm, _body_field, _strip
from forum.forms.fields import DayField, after_today

HANDLE_MAX_LENGTH = 40  # handles have at most 30 characters; a little room for "@" and spaces


def _embargo_field(label) -> DayField:
    return DayField(
        label,
        description=_l("On this day it opens to every reader of the area."),
        validators=[InputRequired(_l("Give the day the embargo ends.")), after_today],
    )


class InviteForm(FlaskForm):
    handle = StringField(
        _l("Let in a member"),
        description=_l("Their @handle."),
        filters=[_strip],
        validators=[
            DataRequired(_l("Give the member's @handle.")),
            Length(max=HANDLE_MAX_LENGTH, message=_l("No member has that @handle.")),
        ],
    )


class RemoveMemberForm(FlaskForm):
    user_id = HiddenField(validators=[DataRequired()])


class EmbargoForm(FlaskForm):
    """Restrict a topic until a day, or move the day of its embargo."""

    embargo_until = _embargo_field(_l("Embargo ends"))


class LiftEmbargoForm(FlaskForm):
    """Only the CSRF token: lifting the embargo takes no other input."""


class PrivateReportForm(FlaskForm):
    title = TopicForm.title
    category = SelectField(_l("Area it concerns"), choices=[], validate_choice=True)
    body = _body_field(_l("What you found"))


class ConvertReportForm(FlaskForm):
    category = SelectField(_l("Sensitive area"), choices=[], validate_choice=True)
    embargo_until = _embargo_field(_l("Restricted until"))
