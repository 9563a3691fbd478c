"""The agenda page, agenda items, voting rounds, ballots and results."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from forum.forms.agenda import (
    AgendaItemForm,
    RoundForm,
    StatusForm,
    ballot_entries,
    typed_ballot,
)
from forum.i18n import text_direction
from forum.models import AgendaArea, AgendaItem, AgendaStatus, VotingMethod, VotingRound
from forum.permissions import can, require
from forum.services import agenda, agenda_path, round_files, round_results, sharing, voting
from forum.views import STALE_FORM, refusal_of_sent_form

bp = Blueprint("agenda", __name__)


@bp.route("/agenda")
def index():
    area = request.args.get("area", "")
    return render_template(
        "agenda/index.html",
        overview=agenda.agenda_overview(current_user, area=area),
        area=area,
        rounds=voting.list_rounds(),
    )


@bp.route("/agenda/new", methods=["GET", "POST"])
def propose():
    require(current_user, "propose_agenda_item")
    form = AgendaItemForm()
    if form.validate_on_submit():
        item = agenda.propose_item(
            current_user,
            agenda.ItemDraft(
                title=form.title.data,
                statement=form.statement.data,
                rationale=form.rationale.data,
                area=AgendaArea(form.area.data),
                evidence=form.evidence_links(),
            ),
            form_token=form.sent_token,
        )
        flash(_("Your research question is on the agenda, with its own discussion."), "success")
        return redirect(url_for("agenda.item", item_id=item.id))
    similar = (
        agenda.similar_items(current_user, form.title.data or "")
        if request.method == "POST" and form.title.data
        else []
    )
    return render_template("agenda/propose.html", form=form, similar=similar), (
        400 if form.errors else 200
    )


def _item_or_404(item_id: int) -> AgendaItem:
    """The item, if the reader may read its discussion; else the same 404 as a missing id (an
    item whose topic is restricted is as hidden as the topic)."""
    found = agenda.get_item(item_id)
    if found is None or not can(current_user, "view_agenda_item", found):
        abort(404)
    return found


def _render_item(found: AgendaItem, form: StatusForm, *, error: str | None = None) -> str:
    """The item's page: its path from question to result, and the status form for moderators
    (offering, for "addressed", the linked things they may see)."""
    candidates = []
    if can(current_user, "change_agenda_status", found):
        candidates = agenda_path.addressed_candidates(current_user, found)
        form.addressed_by.choices = [SelectChoice(t.key, t.title) for t in candidates]
    return render_template(
        "agenda/item.html",
        item=found,
        timeline=agenda_path.timeline(current_user, found),
        candidates=candidates,
        status_form=form,
        status_error=error,
        share=sharing.agenda_item_card(found),
    )


@bp.route("/agenda/<int:item_id>")
def item(item_id: int):
    found = _item_or_404(item_id)
    return _render_item(found, StatusForm(status=found.status.value))


@bp.route("/agenda/<int:item_id>/status", methods=["POST"])
def change_status(item_id: int):
    found = _item_or_404(item_id)
    require(current_user, "change_agenda_status", found)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            agenda.change_status(
                current_user,
                found,
                AgendaStatus(form.status.data),
                note=form.note.data,
                addressed_by=[str(key) for key in form.addressed_by.data or []],
            )
        except agenda.AgendaError as error:  # the form is shown again with what was typed
            return _render_item(found, form, error=str(error)), 400
        flash(_("The status is changed."), "success")
        return redirect(url_for("agenda.item", item_id=found.id))
    return _render_item(found, form), 400


# --- Rounds --------------------------------------------------------------------------------


@bp.route("/rounds/new", methods=["GET", "POST"])
def new_round():
    require(current_user, "create_round")
    form = RoundForm()
    form.items.choices = [
        SelectChoice(i.id, i.title) for i in agenda.ballot_candidates(current_user)
    ]
    if form.validate_on_submit():
        zone = ZoneInfo(form.timezone.data)
        try:
            round_ = _create_round(form, zone)
        except agenda.AgendaError as error:  # e.g. the closing time passed while sending
            flash(str(error), "error")
            return render_template("agenda/new_round.html", form=form), 400
        else:
            flash(_("The round is set up."), "success")
            return redirect(url_for("agenda.round", round_id=round_.id))
    return render_template("agenda/new_round.html", form=form), 400 if form.errors else 200


def _create_round(form: RoundForm, zone: ZoneInfo) -> VotingRound:
    return voting.create_round(
        current_user,
        voting.RoundDraft(
            title=form.title.data,
            description=form.description.data or "",
            opens_at=form.opens_at.data.replace(tzinfo=zone),
            closes_at=form.closes_at.data.replace(tzinfo=zone),
            timezone=form.timezone.data,
            method=VotingMethod(form.method.data),
            item_ids=form.items.data,
            budget=form.budget.data,
            per_item_cap=form.per_item_cap.data,
            credits=form.credits.data,
            show_running_tally=form.show_running_tally.data,
            late_joiners_may_vote=form.late_joiners_may_vote.data,
            institution_share=share / 100 if (share := form.institution_share.data) else None,
        ),
    )


def _round_or_404(round_id: int) -> VotingRound:
    return voting.get_round(round_id) or abort(404)


def _right_to_left() -> bool:
    return text_direction(str(get_locale() or "en")) == "rtl"


def _render_round(page: round_results.RoundPage, *, error: str | None = None) -> str:
    return render_template(
        "agenda/round.html",
        round=page.round,
        state=page.state,
        ballot=page.ballot,
        values=page.values,
        results=page.results,
        receipt_command=page.receipt_command,
        check=page.check,
        error=error,
        share=sharing.round_card(page.round),
    )


@bp.route("/rounds/<int:round_id>", methods=["GET"])
def round(round_id: int):  # noqa: A001 - the URL's noun
    round_ = _round_or_404(round_id)
    return _render_round(round_results.round_page(current_user, round_, rtl=_right_to_left()))


@bp.route("/rounds/<int:round_id>/ballot", methods=["POST"])
def cast(round_id: int):
    round_ = _round_or_404(round_id)
    refused = refusal_of_sent_form("vote_in_round", round_)  # e.g. it closed while they chose
    typed = typed_ballot(round_, request.form)
    if refused:
        page = round_results.round_page(current_user, round_, typed=typed)
        return _render_round(page, error=refused), STALE_FORM
    try:
        voting.cast_ballot(current_user, round_, entries=ballot_entries(round_, typed))
    except voting.BallotRejected as error:
        page = round_results.round_page(current_user, round_, typed=typed)
        return _render_round(page, error=str(error)), 400
    flash(_("Your ballot is saved. You can change it until the round closes."), "success")
    return redirect(url_for("agenda.round", round_id=round_.id))


def _download(text: str, *, mimetype: str, filename: str) -> Response:
    return Response(
        text, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={filename}"}
    )


@bp.route("/rounds/<int:round_id>/ballots.csv")
def ballots_csv(round_id: int):
    round_ = _round_or_404(round_id)
    return _download(
        round_files.download_ballots(current_user, round_),
        mimetype="text/csv",
        filename=round_files.ballots_filename(round_),
    )


@bp.route("/rounds/<int:round_id>/results.json")
def results_json(round_id: int):
    round_ = _round_or_404(round_id)
    return _download(
        round_files.download_results(current_user, round_),
        mimetype="application/json",
        filename=round_files.results_filename(round_),
    )
