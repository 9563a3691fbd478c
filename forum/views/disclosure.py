"""Restricted topics (who is let in, the embargo date) and private reports to the moderators."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.extensions import db
from forum.forms.disclosure import (
    ConvertReportForm,
    EmbargoForm,
    InviteForm,
    LiftEmbargoForm,
    PrivateReportForm,
    RemoveMemberForm,
)
from forum.forms.fields import start_of_day
from forum.i18n import category_name
from forum.models import Topic
from forum.permissions import PermissionDenied, require
from forum.services import accounts, disclosure, reports, topic_areas
from forum.views import first_error, id_arg, page_arg, safe_next, visible_topic_or_404

bp = Blueprint("disclosure", __name__)


def _topic_url(topic: Topic) -> str:
    return url_for("discussions.topic", topic_id=topic.id, slug=topic.slug, page=1)


def _act(topic: Topic, form, change: Callable[[], object], done: str):
    """Run one change from a small form on the topic page, then go back there with a flash.
    A refusal that the person could not foresee from the form (an author bringing the date
    nearer) is flashed too; one about what they may not see stays a 404."""
    back = _topic_url(topic)
    retry = safe_next(request.form.get("next"), back)  # where the form was, to try again
    if not form.validate_on_submit():
        flash(first_error(form), "error")
        return redirect(retry)
    try:
        change()
    except disclosure.DisclosureError as error:
        flash(str(error), "error")
        return redirect(retry)
    except PermissionDenied as refusal:
        if refusal.decision.not_found or refusal.decision.needs_login:
            raise
        db.session.rollback()
        flash(refusal.decision.reason, "error")
        return redirect(retry)
    flash(done, "success")
    return redirect(back)


def _topic_for(topic_id: int, action: str | None) -> Topic:
    """The topic the form is about (a 404 for a reader who may not see it), then the rule for
    what they came to do; None when the service decides (the embargo: extending or shortening)."""
    topic = visible_topic_or_404(topic_id)
    if action is not None:
        require(current_user, action, topic)
    return topic


def _day(form) -> object:
    return start_of_day(form.embargo_until.data, current_user.timezone)


# --- A restricted topic --------------------------------------------------------------------


@bp.route("/t/<int:topic_id>/access", methods=["POST"])
def invite(topic_id: int):
    topic = _topic_for(topic_id, "invite_to_topic")
    form = InviteForm()
    member = accounts.find_user_by_handle((form.handle.data or "").lstrip("@"))

    def let_in() -> None:
        if member is None:
            raise disclosure.DisclosureError(_("No member has that @handle."))
        disclosure.invite_member(current_user, topic, member)

    name = member.display_name if member else ""
    return _act(topic, form, let_in, _("%(name)s is let in and told.", name=name))


@bp.route("/t/<int:topic_id>/access/remove", methods=["POST"])
def remove(topic_id: int):
    topic = _topic_for(topic_id, "invite_to_topic")
    form = RemoveMemberForm()
    member = accounts.find_user_by_id(id_arg(form.user_id.data)) or abort(404)
    return _act(
        topic,
        form,
        lambda: disclosure.remove_member(current_user, topic, member),
        _("%(name)s no longer sees this topic.", name=member.display_name),
    )


@bp.route("/t/<int:topic_id>/embargo", methods=["POST"])
def change_embargo(topic_id: int):
    topic = _topic_for(topic_id, None)
    form = EmbargoForm()
    return _act(
        topic,
        form,
        lambda: disclosure.change_embargo(current_user, topic, until=_day(form)),
        _("The embargo date is changed."),
    )


@bp.route("/t/<int:topic_id>/embargo/restrict", methods=["POST"])
def restrict(topic_id: int):
    topic = _topic_for(topic_id, "restrict_topic")
    form = EmbargoForm()
    return _act(
        topic,
        form,
        lambda: disclosure.restrict_topic(current_user, topic, embargo_until=_day(form)),
        _("The topic is restricted: only moderators and the members let in see it."),
    )


@bp.route("/t/<int:topic_id>/embargo/lift", methods=["POST"])
def lift(topic_id: int):
    topic = _topic_for(topic_id, "shorten_embargo")
    return _act(
        topic,
        LiftEmbargoForm(),
        lambda: disclosure.lift_embargo(current_user, topic),
        _("The embargo is lifted: every reader of the area sees the topic now."),
    )


# --- Private reports -----------------------------------------------------------------------


@bp.route("/reports/new", methods=["GET", "POST"])
def new_report():
    require(current_user, "report_privately")
    areas = topic_areas.list_categories(viewer=current_user)
    form = PrivateReportForm()
    form.category.choices = [(a.slug, category_name(a)) for a in areas]
    if request.method == "GET":
        wanted = request.args.get("area", "")
        form.category.data = next(
            (a.slug for a in areas if a.slug == wanted),
            next((a.slug for a in areas if a.is_sensitive), None),
        )
    if form.validate_on_submit():
        area = next(a for a in areas if a.slug == form.category.data)
        topic = reports.report_privately(
            current_user, area, title=form.title.data, body=form.body.data
        )
        flash(_("Your report is sent. Only you and the moderators can read it."), "success")
        return redirect(_topic_url(topic))
    return render_template("disclosure/new_report.html", form=form), 400 if form.errors else 200


@bp.route("/reports")
@login_required
def my_reports():
    return render_template(
        "disclosure/reports.html", reports=reports.reports_by(current_user, page=page_arg())
    )


@bp.route("/moderation/reports")
def moderation_reports():
    closed = request.args.get("status") == "closed"
    return render_template(
        "disclosure/moderation_reports.html",
        reports=reports.open_reports(current_user, closed=closed, page=page_arg()),
        closed=closed,
    )


@bp.route("/t/<int:topic_id>/convert", methods=["POST"])
def convert(topic_id: int):
    topic = _topic_for(topic_id, "convert_report")
    form = ConvertReportForm()
    form.category.choices = [(a.slug, category_name(a)) for a in disclosure.sensitive_areas()]

    def convert_it() -> None:
        area = topic_areas.get_category(form.category.data)
        reports.convert_report(current_user, topic, category=area, embargo_until=_day(form))

    return _act(
        topic,
        form,
        convert_it,
        _("The report is now a restricted topic; its reporter is its author."),
    )
