"""The form that makes a personal read token for the API (issue 16)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from forum.models.api_tokens import API_TOKEN_NAME_MAX_LENGTH


class ApiTokenForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[
            InputRequired(_l("Give the token a name, such as the script that will use it.")),
            Length(max=API_TOKEN_NAME_MAX_LENGTH),
        ],
        description=_l("For you to tell your tokens apart, such as “reading-list notebook”."),
    )


class RevokeTokenForm(FlaskForm):
    """Only the CSRF token: revoking is a button."""
