"""Workshops (issue 18): the list (upcoming, past), a workshop's page, creating and editing one,
registering and cancelling, and the .ics files (one workshop; a member's secret feed)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.forms.workshops import (
    OrganiserForm,
    OutcomesForm,
    RegistrationForm,
    SessionForm,
    WorkshopForm,
)
from forum.models import FeedKind
from forum.permissions import can, require
from forum.services import (
    calendar_feeds,
    session_outcomes,
    workshop_calendar,
    workshop_organisers,
    workshop_sessions,
    workshops,
)
from forum.services.workshops import Registered, WorkshopProblem
from forum.views import STALE_FORM, calendar_feed_page, id_arg, page_arg, refusal_of_sent_form

bp = Blueprint("workshops", __name__)


def _workshop_or_404(workshop_id):
    number = id_arg(workshop_id)
    found = workshops.get_workshop(number) if number is not None else None
    if found is None or not can(current_user, "view_workshop", found):
        abort(404)
    return found


@bp.route("/workshops")
def index():
    past = request.args.get("when") == "past"
    return render_template(
        "workshops/index.html",
        past=past,
        workshops=workshops.workshops_page(past=past, page=page_arg()),
    )


@bp.route("/workshops/<int:workshop_id>")
def show(workshop_id: int):
    workshop = _workshop_or_404(workshop_id)
    return _page(workshop)


def _page(workshop, *, form=None, refused=None, session_form=None, outcomes_form=None, status=200):
    sessions = workshop_sessions.session_views(current_user, workshop)
    outcome_forms = {
        entry.session.id: OutcomesForm(
            formdata=None,
            prefix=f"s{entry.session.id}",
            notes=entry.session.notes,
            outcomes="\n".join(outcome.address for outcome in entry.outcomes),
        )
        for entry in sessions
        if entry.may_record
    }
    if outcomes_form is not None:
        outcome_forms[outcomes_form.session_id] = outcomes_form
    return render_template(
        "workshops/show.html",
        view=workshops.workshop_view(current_user, workshop),
        sessions=sessions,
        form=form or RegistrationForm(),
        session_form=session_form or SessionForm(formdata=None),
        outcome_forms=outcome_forms,
        refused=refused,
    ), status


@bp.route("/workshops/new", methods=["GET", "POST"])
def new():
    require(current_user, "create_workshop")
    form = WorkshopForm()
    if form.validate_on_submit():
        try:
            workshop = workshops.create_workshop(
                current_user, form.draft(), form_token=form.sent_token
            )
        except WorkshopProblem as problem:
            getattr(form, problem.field).errors.append(problem.message)
        else:
            flash(_("The workshop is created."), "success")
            return redirect(url_for("workshops.show", workshop_id=workshop.id))
    status = 400 if form.errors else 200
    return render_template("workshops/edit.html", form=form, workshop=None), status


@bp.route("/workshops/<int:workshop_id>/edit", methods=["GET", "POST"])
def edit(workshop_id: int):
    workshop = _workshop_or_404(workshop_id)
    require(current_user, "edit_workshop", workshop)
    form = WorkshopForm()
    if request.method == "GET":
        form = WorkshopForm(formdata=None)
        form.show(workshop)
    elif form.validate_on_submit():
        try:
            workshops.update_workshop(current_user, workshop, form.draft())
        except WorkshopProblem as problem:
            getattr(form, problem.field).errors.append(problem.message)
        else:
            flash(_("The workshop is saved."), "success")
            return redirect(url_for("workshops.show", workshop_id=workshop.id))
    status = 400 if form.errors else 200
    return render_template("workshops/edit.html", form=form, workshop=workshop), status


@bp.route("/workshops/<int:workshop_id>/cancel", methods=["POST"])
def cancel(workshop_id: int):
    workshop = _workshop_or_404(workshop_id)
    workshops.cancel_workshop(current_user, workshop)
    flash(_("The workshop is cancelled."), "info")
    return redirect(url_for("workshops.show", workshop_id=workshop.id))


@bp.route("/workshops/<int:workshop_id>/register", methods=["POST"])
def register(workshop_id: int):
    workshop = _workshop_or_404(workshop_id)
    form = RegistrationForm()
    refused = refusal_of_sent_form("register_for_workshop", workshop)
    if refused or not form.validate_on_submit():
        return _page(workshop, form=form, refused=refused, status=STALE_FORM if refused else 400)
    outcome = workshops.register(current_user, workshop, listed=form.listed.data)
    if outcome is Registered.SEAT:
        flash(_("You are registered: a seat is yours."), "success")
    else:
        flash(
            _("The workshop is full: you are on the waitlist, and move up when a seat frees."),
            "info",
        )
    return redirect(url_for("workshops.show", workshop_id=workshop.id))


@bp.route("/workshops/<int:workshop_id>/unregister", methods=["POST"])
@login_required
def unregister(workshop_id: int):
    workshop = _workshop_or_404(workshop_id)
    workshops.cancel_registration(current_user, workshop)
    flash(_("Your registration is cancelled."), "info")
    return redirect(url_for("workshops.show", workshop_id=workshop.id))


# --- Organisers -----------------------------------------------------------------------------


@bp.route("/workshops/organisers", methods=["GET", "POST"])
def organisers():
    require(current_user, "appoint_organisers")
    form = OrganiserForm()
    if form.validate_on_submit():
        try:
            member = workshop_organisers.appoint_organiser(current_user, form.handle.data)
        except WorkshopProblem as problem:
            form.handle.errors.append(problem.message)
        else:
            flash(_("%(name)s may now organise workshops.", name=member.display_name), "success")
            return redirect(url_for("workshops.organisers"))
    return render_template(
        "workshops/organisers.html", form=form, organisers=workshop_organisers.organisers()
    ), 400 if form.errors else 200


@bp.route("/workshops/organisers/<int:user_id>/remove", methods=["POST"])
def dismiss_organiser(user_id: int):
    require(current_user, "appoint_organisers")
    number = id_arg(user_id)
    if number is not None:
        workshop_organisers.dismiss_organiser(current_user, number)
    flash(_("They no longer organise new workshops."), "info")
    return redirect(url_for("workshops.organisers"))


# --- Sessions -------------------------------------------------------------------------------


@bp.route("/workshops/<int:workshop_id>/sessions", methods=["POST"])
def add_session(workshop_id: int):
    workshop = _workshop_or_404(workshop_id)
    require(current_user, "edit_workshop", workshop)
    form = SessionForm()
    if form.validate_on_submit() and (draft := form.draft(workshop.timezone)) is not None:
        try:
            workshop_sessions.add_session(current_user, workshop, draft)
        except WorkshopProblem as problem:
            getattr(form, problem.field).errors.append(problem.message)
        else:
            flash(_("The session is added."), "success")
            return redirect(url_for("workshops.show", workshop_id=workshop.id, _anchor="sessions"))
    return _page(workshop, session_form=form, status=400)


def _session_or_404(workshop, session_id):
    number = id_arg(session_id)
    found = workshop_sessions.get_session(workshop, number) if number is not None else None
    return found or abort(404)


@bp.route("/workshops/<int:workshop_id>/sessions/<int:session_id>/remove", methods=["POST"])
def remove_session(workshop_id: int, session_id: int):
    workshop = _workshop_or_404(workshop_id)
    workshop_sessions.remove_session(current_user, _session_or_404(workshop, session_id))
    flash(_("The session is removed."), "info")
    return redirect(url_for("workshops.show", workshop_id=workshop.id, _anchor="sessions"))


@bp.route("/workshops/<int:workshop_id>/sessions/<int:session_id>/outcomes", methods=["POST"])
def record_outcomes(workshop_id: int, session_id: int):
    """A session's notes and what came out of it, written by its organisers once it started."""
    workshop = _workshop_or_404(workshop_id)
    session = _session_or_404(workshop, session_id)
    require(current_user, "record_session_outcomes", session)
    form = OutcomesForm(prefix=f"s{session.id}")
    form.session_id = session.id
    if form.validate_on_submit():
        try:
            session_outcomes.save_outcomes(
                current_user, session, notes=form.notes.data or "", lines=form.lines
            )
        except WorkshopProblem as problem:
            getattr(form, problem.field).errors.append(problem.message)
        else:
            flash(_("The session's notes and outcomes are saved."), "success")
            return redirect(
                url_for("workshops.show", workshop_id=workshop.id, _anchor=f"session-{session.id}")
            )
    return _page(workshop, outcomes_form=form, status=400)


# --- Calendars --------------------------------------------------------------------------------


def _ics(body: bytes, name: str) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.ics"'
    return response


@bp.route("/workshops/<int:workshop_id>.ics")
def ics(workshop_id: int):
    workshop = _workshop_or_404(workshop_id)
    return _ics(workshop_calendar.workshop_ics(current_user, workshop), f"workshop-{workshop.id}")


@bp.route("/workshops/<int:workshop_id>/sessions/<int:session_id>.ics")
def session_ics(workshop_id: int, session_id: int):
    workshop = _workshop_or_404(workshop_id)
    session = _session_or_404(workshop, session_id)
    return _ics(
        workshop_calendar.session_ics(current_user, session),
        f"workshop-{workshop.id}-session-{session.id}",
    )


@bp.route("/workshops/calendar", methods=["GET", "POST"])
@login_required
def calendar():
    return calendar_feed_page(
        FeedKind.WORKSHOPS, template="workshops/calendar.html", feed_endpoint="workshops.feed"
    )


@bp.route("/workshops/feed/<token>.ics")
def feed(token: str):
    member = calendar_feeds.feed_owner(token, FeedKind.WORKSHOPS)
    if member is None:
        abort(404)
    return _ics(workshop_calendar.feed_ics(member), "workshops")
