"""Applying to join, the applicant's private page, invitations, the review queue, the member
directory and the admin settings."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user

from forum.forms.membership import (
    AnswerForm,
    ApplicationForm,
    ApproveForm,
    RejectForm,
    RequestInfoForm,
    ScoreForm,
    SetPasswordForm,
    SettingsForm,
    WithdrawForm,
)
from forum.models import Application
from forum.permissions import require
from forum.services import applications, invitations, reviews, site_settings, topic_areas
from forum.services.directory import DirectoryFilters, member_directory
from forum.views import page_arg

bp = Blueprint("membership", __name__)


# --- Applying ----------------------------------------------------------------------------------


@bp.route("/apply", methods=["GET", "POST"])
def apply():
    settings = site_settings.get_settings()
    require(current_user, "apply", settings)
    form = ApplicationForm()
    already_member = False
    if form.validate_on_submit():
        try:
            submitted = applications.submit_application(
                form.draft(locale=str(get_locale() or "en"))
            )
        except applications.AlreadyMember as error:
            form.email.errors.append(str(error))
            already_member = True  # the page offers to log in or reset the password
        except applications.DuplicateApplication as error:
            form.email.errors.append(str(error))
        except applications.NameRefused as error:
            form.full_name.errors.append(str(error))
        except applications.ApplicationsClosed:
            # The deadline passed while the form was open: say so, keep every word typed.
            message = _("Applications closed before you submitted. Your text is kept below.")
            flash(message, "error")
        else:
            return render_template(
                "membership/applied.html",
                email=submitted.application.email,
                # Without the email, the applicant's only way back is this link: show it.
                status_url=None
                if submitted.email_sent
                else url_for("membership.status", token=submitted.token, _external=True),
            )
    status = 400 if (form.errors or request.method == "POST") else 200
    return render_template(
        "membership/apply.html",
        form=form,
        window=site_settings.application_window(settings),
        statement_max_words=applications.STATEMENT_MAX_WORDS,
        already_member=already_member,
    ), status


def _application_or_404(token: str) -> Application:
    return applications.application_for_token(token) or abort(404)


def _status_page(application: Application, token: str, answer_form: AnswerForm, status: int = 200):
    return render_template(
        "membership/status.html",
        application=application,
        token=token,
        messages=applications.application_messages(application),
        answer_form=answer_form,
        withdraw_form=WithdrawForm(),
    ), status


@bp.route("/apply/status/<token>")
def status(token: str):
    return _status_page(_application_or_404(token), token, AnswerForm())


@bp.route("/apply/status/<token>/answer", methods=["POST"])
def answer(token: str):
    application = _application_or_404(token)
    form = AnswerForm()
    if not form.validate_on_submit():
        return _status_page(application, token, form, 400)
    try:
        applications.answer_info_request(application, body=form.answer.data)
    except applications.MembershipError as error:
        flash(str(error), "error")
    else:
        flash(_("Thank you: your answer is with the reviewers."), "success")
    return redirect(url_for("membership.status", token=token))


@bp.route("/apply/status/<token>/withdraw", methods=["POST"])
def withdraw(token: str):
    application = _application_or_404(token)
    if WithdrawForm().validate_on_submit():
        try:
            applications.withdraw_application(application)
        except applications.MembershipError as error:
            flash(str(error), "error")
        else:
            flash(_("Your application is withdrawn."), "info")
    return redirect(url_for("membership.status", token=token))


# --- Invitations ---------------------------------------------------------------------------------


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def set_password(token: str):
    try:
        invitations.check_account_token(token)
    except invitations.InvalidLink as error:
        return render_template("membership/invalid_link.html", message=str(error)), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = invitations.set_password_with_token(token, password=form.password.data)
        except invitations.InvalidLink as error:
            return render_template("membership/invalid_link.html", message=str(error)), 410
        login_user(user, remember=True)
        flash(
            _("Welcome to the forum, %(name)s! Your password is set.", name=user.display_name),
            "success",
        )
        return redirect(url_for("discussions.home"))
    return render_template("membership/set_password.html", form=form), 400 if form.errors else 200


# --- Reviewing -----------------------------------------------------------------------------------


@bp.route("/review")
def queue():
    filters = reviews.QueueFilters(
        state=request.args.get("state", "pending"),
        institution=request.args.get("institution", ""),
        discipline=request.args.get("discipline", ""),
    )
    result = reviews.review_queue(current_user, filters, page=page_arg())
    return render_template(
        "membership/queue.html",
        queue=result,
        filters=filters,
        disciplines=applications.DISCIPLINES,
    )


def _reviewable(application_id: int) -> Application:
    require(current_user, "review_applications")
    return reviews.get_application(application_id) or abort(404)


def _detail(application: Application, status: int = 200, **forms):
    page = reviews.review_page(current_user, application)
    forms = {
        "score_form": ScoreForm(obj=page.own_review),
        "approve_form": ApproveForm(),
        "reject_form": RejectForm(),
        "info_form": RequestInfoForm(),
        **forms,
    }
    return render_template(
        "membership/application.html",
        application=application,
        reviews=page.reviews,
        messages=page.messages,
        conflict=page.conflict,
        institutional_email=page.institutional_email,
        disciplines=applications.DISCIPLINES,
        **forms,
    ), status


@bp.route("/review/<int:application_id>")
def application(application_id: int):
    return _detail(_reviewable(application_id))


@bp.route("/review/<int:application_id>/score", methods=["POST"])
def score(application_id: int):
    found = _reviewable(application_id)
    require(current_user, "score_application", found)
    form = ScoreForm()
    if not form.validate_on_submit():
        return _detail(found, 400, score_form=form)
    reviews.score_application(current_user, found, form.scores())
    flash(_("Your scores are saved."), "success")
    return redirect(url_for("membership.application", application_id=found.id))


def _decide(application_id: int, form_class, form_name: str, action):
    found = _reviewable(application_id)
    require(current_user, "decide_application", found)
    form = form_class()
    if not form.validate_on_submit():
        return _detail(found, 400, **{form_name: form})
    try:
        message = action(found, form)
    except applications.MembershipError as error:
        flash(str(error), "error")
    else:
        flash(message, "success")
    return redirect(url_for("membership.application", application_id=found.id))


def _mail_note(sent: bool) -> str:
    return "" if sent else " " + _("The email could not be sent; it is logged for the operators.")


@bp.route("/review/<int:application_id>/approve", methods=["POST"])
def approve(application_id: int):
    def act(found, form):
        member, sent = reviews.approve_application(current_user, found)
        return _(
            "%(name)s is approved and invited to set a password.", name=member.display_name
        ) + _mail_note(sent)

    return _decide(application_id, ApproveForm, "approve_form", act)


@bp.route("/review/<int:application_id>/reject", methods=["POST"])
def reject(application_id: int):
    def act(found, form):
        sent = reviews.reject_application(current_user, found, note=form.note.data)
        return _("The application is rejected and the applicant told.") + _mail_note(sent)

    return _decide(application_id, RejectForm, "reject_form", act)


@bp.route("/review/<int:application_id>/request-info", methods=["POST"])
def request_info(application_id: int):
    def act(found, form):
        sent = reviews.request_information(current_user, found, question=form.question.data)
        return _("Your question is sent to the applicant.") + _mail_note(sent)

    return _decide(application_id, RequestInfoForm, "info_form", act)


@bp.route("/review/<int:application_id>/resend-invitation", methods=["POST"])
def resend_invitation(application_id: int):
    found = _reviewable(application_id)
    if ApproveForm().validate_on_submit():
        try:
            sent = invitations.resend_invitation(current_user, found)
        except applications.MembershipError as error:
            flash(str(error), "error")
        else:
            flash(_("A new invitation is on its way.") + _mail_note(sent), "success")
    return redirect(url_for("membership.application", application_id=found.id))


# --- The member directory ------------------------------------------------------------------------


@bp.route("/members")
def directory():
    filters = DirectoryFilters(
        q=request.args.get("q", ""),
        institution=request.args.get("institution", ""),
        discipline=request.args.get("discipline", ""),
    )
    members = member_directory(current_user, filters, page=page_arg())
    return render_template("membership/directory.html", members=members, filters=filters)


# --- Admin settings ------------------------------------------------------------------------


@bp.route("/admin/settings", methods=["GET", "POST"])
def settings():
    require(current_user, "manage_settings")
    current = site_settings.get_settings()
    categories = topic_areas.list_categories(viewer=current_user)
    form = SettingsForm()
    form.offer_areas(categories)
    if request.method == "GET":
        form.show(current, categories)
    if form.validate_on_submit():
        site_settings.update_settings(current_user, form.changes())
        flash(_("The settings are saved."), "success")
        return redirect(url_for("membership.settings"))
    status = 400 if form.errors else 200
    return render_template("membership/settings.html", form=form, categories=categories), status
