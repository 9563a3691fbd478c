"""Applying to join, the applicant's private page, invitations, the review queue, the member
directory and the admin settings."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user
from wtforms import SelectChoice

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
from forum.i18n import category_name
from forum.models import Application, RegistrationMode
from forum.permissions import has_conflict_of_interest, require
from forum.services import membership, topic_areas
from forum.views import page_arg

bp = Blueprint("membership", __name__)


# --- Applying ----------------------------------------------------------------------------------


@bp.route("/apply", methods=["GET", "POST"])
def apply():
    settings = membership.get_settings()
    require(current_user, "apply", settings)
    window = membership.application_window(settings)
    form = ApplicationForm()
    if form.validate_on_submit():
        draft = membership.ApplicationDraft(
            **{
                name: form[name].data or ""
                for name in (
                    "full_name",
                    "email",
                    "institution",
                    "position",
                    "department",
                    "disciplines_other",
                    "ai_experience",
                    "statement",
                    "homepage",
                    "orcid",
                )
            },  # fmt: skip
            disciplines=form.disciplines.data or [],
            locale=str(get_locale() or "en"),
        )
        try:
            submitted = membership.submit_application(draft)
        except membership.DuplicateApplication as error:
            form.email.errors.append(str(error))
        except membership.ApplicationsClosed:
            # The deadline passed while the form was open: say so, keep every word typed.
            window = membership.application_window(settings)
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
        window=window,
        statement_max_words=membership.STATEMENT_MAX_WORDS,
    ), status


def _application_or_404(token: str) -> Application:
    return membership.application_for_token(token) or abort(404)


@bp.route("/apply/status/<token>")
def status(token: str):
    application = _application_or_404(token)
    return render_template(
        "membership/status.html",
        application=application,
        token=token,
        messages=membership.application_messages(application),
        answer_form=AnswerForm(),
        withdraw_form=WithdrawForm(),
    )


@bp.route("/apply/status/<token>/answer", methods=["POST"])
def answer(token: str):
    application = _application_or_404(token)
    form = AnswerForm()
    if form.validate_on_submit():
        try:
            membership.answer_info_request(application, body=form.answer.data)
        except membership.MembershipError as error:
            flash(str(error), "error")
        else:
            flash(_("Thank you: your answer is with the reviewers."), "success")
        return redirect(url_for("membership.status", token=token))
    return render_template(
        "membership/status.html",
        application=application,
        token=token,
        messages=membership.application_messages(application),
        answer_form=form,
        withdraw_form=WithdrawForm(),
    ), 400


@bp.route("/apply/status/<token>/withdraw", methods=["POST"])
def withdraw(token: str):
    application = _application_or_404(token)
    if WithdrawForm().validate_on_submit():
        try:
            membership.withdraw_application(application)
        except membership.MembershipError as error:
            flash(str(error), "error")
        else:
            flash(_("Your application is withdrawn."), "info")
    return redirect(url_for("membership.status", token=token))


# --- Invitations ---------------------------------------------------------------------------------


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def set_password(token: str):
    try:
        membership.check_account_token(token)
    except membership.InvalidLink as error:
        return render_template("membership/invalid_link.html", message=str(error)), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = membership.set_password_with_token(token, password=form.password.data)
        except membership.InvalidLink as error:
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
    require(current_user, "review_applications")
    filters = membership.QueueFilters(
        state=request.args.get("state", "pending"),
        institution=request.args.get("institution", ""),
        discipline=request.args.get("discipline", ""),
    )
    result = membership.review_queue(current_user, filters, page=page_arg())
    conflicts = {a.id for a in result.page.items if has_conflict_of_interest(current_user, a)}
    return render_template(
        "membership/queue.html",
        queue=result,
        filters=filters,
        conflicts=conflicts,
        disciplines=membership.DISCIPLINES,
    )


def _reviewable(application_id: int) -> Application:
    require(current_user, "review_applications")
    return membership.get_application(application_id) or abort(404)


def _detail(application: Application, status: int = 200, **forms):
    forms = {
        "score_form": ScoreForm(obj=_my_review(application)),
        "approve_form": ApproveForm(),
        "reject_form": RejectForm(),
        "info_form": RequestInfoForm(),
        **forms,
    }
    return render_template(
        "membership/application.html",
        application=application,
        reviews=membership.application_reviews(application),
        messages=membership.application_messages(application),
        conflict=has_conflict_of_interest(current_user, application),
        disciplines=membership.DISCIPLINES,
        **forms,
    ), status


def _my_review(application: Application):
    return next(
        (
            r
            for r in membership.application_reviews(application)
            if r.reviewer_id == current_user.id
        ),
        None,
    )


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
    scores = membership.Scores(
        relevance=form.relevance.data,
        fit=form.fit.data,
        breadth=form.breadth.data,
        relevance_comment=form.relevance_comment.data or "",
        fit_comment=form.fit_comment.data or "",
        breadth_comment=form.breadth_comment.data or "",
    )
    membership.score_application(current_user, found, scores)
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
    except membership.MembershipError as error:
        flash(str(error), "error")
    else:
        flash(message, "success")
    return redirect(url_for("membership.application", application_id=found.id))


def _mail_note(sent: bool) -> str:
    return "" if sent else " " + _("The email could not be sent; it is logged for the operators.")


@bp.route("/review/<int:application_id>/approve", methods=["POST"])
def approve(application_id: int):
    def act(found, form):
        member, sent = membership.approve_application(current_user, found)
        return _(
            "%(name)s is approved and invited to set a password.", name=member.display_name
        ) + _mail_note(sent)

    return _decide(application_id, ApproveForm, "approve_form", act)


@bp.route("/review/<int:application_id>/reject", methods=["POST"])
def reject(application_id: int):
    def act(found, form):
        sent = membership.reject_application(current_user, found, note=form.note.data)
        return _("The application is rejected and the applicant told.") + _mail_note(sent)

    return _decide(application_id, RejectForm, "reject_form", act)


@bp.route("/review/<int:application_id>/request-info", methods=["POST"])
def request_info(application_id: int):
    def act(found, form):
        sent = membership.request_information(current_user, found, question=form.question.data)
        return _("Your question is sent to the applicant.") + _mail_note(sent)

    return _decide(application_id, RequestInfoForm, "info_form", act)


@bp.route("/review/<int:application_id>/resend-invitation", methods=["POST"])
def resend_invitation(application_id: int):
    found = _reviewable(application_id)
    if ApproveForm().validate_on_submit():
        try:
            sent = membership.resend_invitation(current_user, found)
        except membership.MembershipError as error:
            flash(str(error), "error")
        else:
            flash(_("A new invitation is on its way.") + _mail_note(sent), "success")
    return redirect(url_for("membership.application", application_id=found.id))


# --- The member directory ------------------------------------------------------------------------


@bp.route("/members")
def directory():
    require(current_user, "view_directory")
    filters = membership.DirectoryFilters(
        q=request.args.get("q", ""),
        institution=request.args.get("institution", ""),
        discipline=request.args.get("discipline", ""),
    )
    members = membership.member_directory(current_user, filters, page=page_arg())
    return render_template("membership/directory.html", members=members, filters=filters)


# --- Admin settings ------------------------------------------------------------------------


def _local(moment: datetime | None, zone: str) -> datetime | None:
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None) if moment else None


def _aware(moment: datetime | None, zone: str) -> datetime | None:
    return moment.replace(tzinfo=ZoneInfo(zone)) if moment else None


@bp.route("/admin/settings", methods=["GET", "POST"])
def settings():
    require(current_user, "manage_settings")
    current = membership.get_settings()
    categories = topic_areas.list_categories(viewer=current_user)
    form = SettingsForm()
    form.members_only.choices = [SelectChoice(c.id, category_name(c)) for c in categories]
    form.sensitive.choices = form.members_only.choices
    if request.method == "GET":
        zone = current.applications_timezone
        form.registration_mode.data = current.registration_mode.value
        form.applications_timezone.data = zone
        form.applications_open_at.data = _local(current.applications_open_at, zone)
        form.applications_close_at.data = _local(current.applications_close_at, zone)
        form.members_only.data = [c.id for c in categories if c.is_members_only]
        form.sensitive.data = [c.id for c in categories if c.is_sensitive]
    if form.validate_on_submit():
        zone = form.applications_timezone.data
        membership.update_settings(current_user, membership.SettingsChanges(
            registration_mode=RegistrationMode(form.registration_mode.data),
            applications_open_at=_aware(form.applications_open_at.data, zone),
            applications_close_at=_aware(form.applications_close_at.data, zone),
            applications_timezone=zone,
            members_only_category_ids=set(form.members_only.data or []),
            sensitive_category_ids=set(form.sensitive.data or []),
        ))  # fmt: skip
        flash(_("The settings are saved."), "success")
        return redirect(url_for("membership.settings"))
    return render_template("membership/settings.html", form=form, categories=categories), (
        400 if form.errors else 200
    )
