"""Registering, logging in and out, profiles and the language switch."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from forum.extensions import limiter
from forum.forms.accounts import LoginForm, ProfileForm, RegisterForm
from forum.permissions import can, require
from forum.services import accounts, site_settings
from forum.views import id_arg, safe_next

bp = Blueprint("accounts", __name__)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
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
@limiter.limit("20 per 10 minutes", methods=["POST"])
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


@bp.route("/settings/profile", methods=["GET", "POST"])
@login_required
def edit_profile():
    require(current_user, "edit_profile", current_user)
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        accounts.update_profile(current_user, current_user, form.changes())
        flash(_("Your profile is saved."), "success")
        return redirect(url_for("accounts.profile", user_id=current_user.id))
    if request.method == "GET" and current_user.locale is None:
        form.locale.data = ""
    status = 400 if form.errors else 200
    return render_template("accounts/edit_profile.html", form=form), status


@bp.route("/language", methods=["POST"])
def set_language():
    locale = request.form.get("locale", "")
    if locale in ("en", "ar"):
        session["locale"] = locale
        if current_user.is_authenticated:
            accounts.set_locale(current_user, locale)
    return redirect(safe_next(request.form.get("next"), url_for("discussions.home")))
