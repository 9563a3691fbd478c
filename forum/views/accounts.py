"""Registering, logging in and out, profiles, account security and the language switch."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from forum.forms.accounts import (
    ChangeEmailForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
)
from forum.forms.attachments import AvatarForm
from forum.names import TextRefused
from forum.permissions import can, require
from forum.services import account_security, accounts, site_settings
from forum.services import activity as activity_service
from forum.services.account_security import InvalidLink, WrongPassword
from forum.services.activity import ActivitySection
from forum.views import after_response, id_arg, page_arg, safe_next

bp = Blueprint("accounts", __name__)


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("discussions.home"))
    settings = site_settings.get_settings()
    if not can(current_user, "register", settings):
        window = site_settings.application_window(settings)
        status = 403 if request.method == "POST" else 200
        return render_template("accounts/register_closed.html", window=window), status
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = accounts.register_user(
                email=form.email.data,
                display_name=form.display_name.data,
                password=form.password.data,
                locale=session.get("locale"),
            )
        except accounts.EmailTaken:
            form.email.errors.append(
                _("An account with this email already exists. Log in instead?")
            )
        except TextRefused as error:  # a look-alike of a member's name (issue 13)
            form.display_name.errors.append(str(error))
        else:
            login_user(user)
            flash(
                _(
                    "Welcome, %(name)s! Tell others about your work on your profile.",
                    name=user.display_name,
                ),
                "success",
            )
            return redirect(url_for("accounts.edit_profile"))
    status = 400 if form.errors else 200
    return render_template("accounts/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    next_url = safe_next(request.args.get("next"), url_for("discussions.home"))
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user, remember=True)
            flash(_("Logged in as %(name)s.", name=user.display_name), "success")
            return redirect(next_url)
        form.password.errors.append(_("That email and password do not match an account."))
    status = 400 if form.errors else 200
    return render_template("accounts/login.html", form=form, next_url=next_url), status


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        # Ends every session and remember cookie of the member, not only this one (issue 13).
        account_security.end_sessions(current_user._get_current_object())
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("discussions.home"))


@bp.route("/u/<int:user_id>")
def profile(user_id: int):
    # An id past the database's integer range is missing, not an error (id_arg); so is a
    # profile its owner keeps to members, for visitors.
    page = accounts.profile_page(current_user, id_arg(user_id)) or abort(404)
    return render_template(
        "accounts/profile.html", profile=page.profile, topics=page.topics, posts=page.posts
    )


@bp.route("/u/<int:user_id>/activity")
def activity(user_id: int):
    """A member's topics, replies, accepted answers and agenda items, as the reader may see
    them (issue 17); a private profile is as missing to a visitor as on the profile page."""
    shown = activity_service.member_activity(
        current_user, id_arg(user_id), section=request.args.get("section", ""), page=page_arg()
    )
    if shown is None:
        abort(404)
    return render_template("accounts/activity.html", activity=shown, sections=ActivitySection)


@bp.route("/settings/profile", methods=["GET", "POST"])
@login_required
def edit_profile():
    require(current_user, "edit_profile", current_user)
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        try:
            accounts.update_profile(current_user, current_user, form.changes())
        except TextRefused as error:  # a look-alike of another member's name (issue 13)
            form.display_name.errors.append(str(error))
        else:
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("accounts.profile", user_id=current_user.id))
    if request.method == "GET" and current_user.locale is None:
        form.locale.data = ""
    status = 400 if form.errors else 200
    return render_template(
        "accounts/edit_profile.html", form=form, avatar_form=AvatarForm(formdata=None)
    ), status


# --- Forgotten passwords and account security (issue 13) ---------------------------------------


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        # The same answer, as fast, whether or not the address has an account: the email goes
        # once the answer is sent.
        send = account_security.request_password_reset(form.email.data)
        return after_response(render_template("accounts/reset_requested.html"), send)
    status = 400 if form.errors else 200
    return render_template("accounts/forgot_password.html", form=form), status


def _unusable_link(error: InvalidLink):
    return render_template("accounts/link_unusable.html", message=str(error)), 410


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        account_security.check_reset_link(token)
    except InvalidLink as error:
        return _unusable_link(error)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            account_security.reset_password(token, password=form.password.data)
        except InvalidLink as error:
            return _unusable_link(error)
        logout_user()  # whoever was logged in on this browser: the reset ended their session
        flash(_("Your new password is set. Log in with it."), "success")
        return redirect(url_for("accounts.login"))
    status = 400 if form.errors else 200
    return render_template("accounts/reset_password.html", form=form), status


def _account_page(status: int = 200, **forms):
    forms.setdefault("password_form", ChangePasswordForm(formdata=None))
    forms.setdefault("email_form", ChangeEmailForm(formdata=None))
    return render_template("accounts/account.html", **forms), status


@bp.route("/settings/account")
@login_required
def account_settings():
    return _account_page()


@bp.route("/settings/account/password", methods=["POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            account_security.change_password(
                user,
                current_password=form.current_password.data,
                new_password=form.new_password.data,
            )
        except WrongPassword:
            form.current_password.errors.append(_("That is not your current password."))
        else:
            login_user(user, remember=True)  # stay logged in here; every other session ended
            flash(_("Your password is changed. Other sessions are logged out."), "success")
            return redirect(url_for("accounts.account_settings"))
    return _account_page(400, password_form=form)


@bp.route("/settings/account/email", methods=["POST"])
@login_required
def change_email():
    form = ChangeEmailForm()
    if form.validate_on_submit():
        try:
            account_security.request_email_change(
                current_user, new_email=form.new_email.data, password=form.password.data
            )
        except WrongPassword:
            form.password.errors.append(_("That is not your current password."))
        except accounts.EmailTaken:
            form.new_email.errors.append(_("This address is already used by an account."))
        else:
            flash(
                _(
                    "We sent a link to %(email)s: open it within 24 hours to confirm the change.",
                    email=current_user.pending_email,
                ),
                "info",
            )
            return redirect(url_for("accounts.account_settings"))
    return _account_page(400, email_form=form)


@bp.route("/settings/account/confirm-email/<token>", methods=["GET", "POST"])
def confirm_email(token: str):
    """GET only asks (it changes nothing); the button POSTs."""
    try:
        if request.method == "GET":
            user = account_security.check_email_link(token)
            return render_template("accounts/confirm_email.html", pending_email=user.pending_email)
        user = account_security.confirm_email_change(token)
    except InvalidLink as error:
        return _unusable_link(error)
    flash(_("Your email address is now %(email)s.", email=user.email), "success")
    if current_user.is_authenticated:
        return redirect(url_for("accounts.account_settings"))
    return redirect(url_for("accounts.login"))


@bp.route("/settings/account/sessions", methods=["POST"])
@login_required
def end_other_sessions():
    user = current_user._get_current_object()
    account_security.end_sessions(user)
    login_user(user, remember=True)  # this browser stays logged in, with the new version
    flash(_("You are logged out everywhere else."), "success")
    return redirect(url_for("accounts.account_settings"))


@bp.route("/language", methods=["POST"])
def set_language():
    locale = request.form.get("locale", "")
    if locale in ("en", "ar"):
        session["locale"] = locale
        if current_user.is_authenticated:
            accounts.set_locale(current_user, locale)
    return redirect(safe_next(request.form.get("next"), url_for("discussions.home")))
