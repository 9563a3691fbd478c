"""The base of every create form whose duplicate hurts: a hidden one-time token (issue 17)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField

from forum.services import form_tokens


class OneTimeForm(FlaskForm):
    """A create form (new topic, reply, flag, agenda item) that the Back button, a second tab or
    a double click may send again: each page gets a fresh token, and a sending whose token
    already made something raises form_tokens.AlreadySent, which leads to that thing.

    Templates render ``form.form_token`` beside ``form.csrf_token``; the service that creates
    takes ``form.sent_token`` and claims it in its transaction (forum/services/form_tokens.py).
    """

    form_token = HiddenField(default=form_tokens.new_token)

    @property
    def sent_token(self) -> str | None:
        """The token this sending carries; None for one sent without a token of ours."""
        sent = self.form_token.raw_data if self.is_submitted() else None
        # raw_data, not data: a sending without the field would get a fresh default token.
        return form_tokens.well_formed(sent[0]) if sent else None

    def validate_on_submit(self, extra_validators=None) -> bool:
        # Before the fields: a form sent again is answered by what it made the first time,
        # whatever changed since (a title now taken, a link now shared, a topic now locked).
        if self.is_submitted():
            form_tokens.refuse_if_used(self.sent_token)
        return super().validate_on_submit(extra_validators)
