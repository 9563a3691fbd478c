"""Personal read tokens in the member's settings (issue 16): make one (shown once), list, revoke."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.forms.api_tokens import ApiTokenForm, RevokeTokenForm
from forum.permissions import can, require
from forum.services import api_tokens

bp = Blueprint("api_tokens", __name__)


def _page(form: ApiTokenForm, *, new_token: str | None = None, status: int = 200):
    return render_template(
        "accounts/api_tokens.html",
        form=form,
        revoke_form=RevokeTokenForm(formdata=None),
        tokens=api_tokens.active_tokens(current_user),
        new_token=new_token,
    ), status


@bp.route("/settings/tokens")
@login_required
def index():
    return _page(ApiTokenForm(formdata=None))


@bp.route("/settings/tokens", methods=["POST"])
@login_required
def create():
    require(current_user, "create_api_token")
    form = ApiTokenForm()
    if form.validate_on_submit():
        try:
            _token, secret = api_tokens.create_token(current_user, name=form.name.data)
        except api_tokens.TokenProblem as error:
            form.name.errors.append(str(error))
        else:
            # Shown in this answer only (never flashed: the session cookie would carry it).
            return _page(ApiTokenForm(formdata=None), new_token=secret, status=201)
    return _page(form, status=400)


@bp.route("/settings/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    token = api_tokens.get_token(token_id)
    if token is None or not can(current_user, "revoke_api_token", token):
        abort(404)
    if RevokeTokenForm().validate_on_submit():
        api_tokens.revoke_token(current_user, token)
        flash(
            _("The token “%(name)s” is revoked: it reads nothing now.", name=token.name), "success"
        )
    return redirect(url_for("api_tokens.index"))
