"""The agenda page, agenda items, voting rounds, ballots and results."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from wtforms import SelectChoice

from forum import charts
from forum.forms.agenda import AgendaItemForm, RoundForm, StatusForm
from forum.forms.fields import whole_number
from forum.i18n import text_direction
from forum.models import AgendaArea, AgendaItem, AgendaStatus, VotingMethod, VotingRound
from forum.permissions import can, require
from forum.services import agenda, round_results, voting

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
        )
        flash(_("Your research question is on the agenda, with its own discussion."), "success")
        return redirect(url_for("agenda.item", item_id=item.id))
    similar = (
        agenda.similar_items(current_user, form.title.data or "", form.statement.data or "")
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


@bp.route("/agenda/<int:item_id>")
def item(item_id: int):
    found = _item_or_404(item_id)
    return render_template(
        "agenda/item.html",
        item=found,
        history=agenda.item_history(found),
        results=agenda.item_results(found),
        status_form=StatusForm(status=found.status.value),
    )


@bp.route("/agenda/<int:item_id>/status", methods=["POST"])
def change_status(item_id: int):
    found = _item_or_404(item_id)
    require(current_user, "change_agenda_status", found)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            agenda.change_status(
                current_user, found, AgendaStatus(form.status.data), note=form.note.data
            )
        except agenda.AgendaError as error:
            flash(str(error), "error")
        else:
            flash(_("The status is changed."), "success")
        return redirect(url_for("agenda.item", item_id=found.id))
    return render_template(
        "agenda/item.html",
        item=found,
        history=agenda.item_history(found),
        results=agenda.item_results(found),
        status_form=form,
    ), 400


# --- Rounds --------------------------------------------------------------------------------


@bp.route("/rounds/new", methods=["GET", "POST"])
def new_round():
    require(current_user, "create_round")
    form = RoundForm()
    candidates = agenda.agenda_overview(current_user)
    open_items = [
        i
        for s in (AgendaStatus.PROPOSED, AgendaStatus.ON_BALLOT, AgendaStatus.PRIORITISED)
        for i in candidates.by_status[s]
    ]
    form.items.choices = [SelectChoice(i.id, i.title) for i in open_items]
    if form.validate_on_submit():
        zone = ZoneInfo(form.timezone.data)
        round_ = voting.create_round(
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
        flash(_("The round is set up."), "success")
        return redirect(url_for("agenda.round", round_id=round_.id))
    return render_template("agenda/new_round.html", form=form), 400 if form.errors else 200


def _round_or_404(round_id: int) -> VotingRound:
    return voting.get_round(round_id) or abort(404)


def _results_view(round_: VotingRound) -> dict:
    """What the results page shows, from the frozen results (or the running tally)."""
    if round_.results is not None:
        data = round_.results
        order = [int(i) for i in data["order"]]
        scores = {int(k): v for k, v in data["scores"].items()}
        supporters = {int(k): v for k, v in data["supporters"].items()}
        pairwise = data.get("pairwise")
        participation = data.get("participation")
        turnout = data.get("turnout_by_institution", [])
        capped = data.get("capped", {})
        previous = round_results.previous_ranks(round_)
    else:
        result = round_results.running_tally(round_)
        order, scores, supporters = result.order, result.scores, result.supporters
        pairwise = result.to_json().get("pairwise")
        participation, turnout, capped, previous = None, [], {}, {}
    titles = {item.id: item.title for item in round_.items}
    rows = [
        {
            "rank": rank,
            "item_id": item_id,
            "title": titles.get(item_id, "?"),
            "score": scores.get(item_id, 0),
            "supporters": supporters.get(item_id, 0),
            "change": (previous[item_id] - rank) if item_id in previous else None,
            "capped": capped.get(str(item_id), []),
        }
        for rank, item_id in enumerate(order, start=1)
    ]
    chart = charts.bar_chart_svg(
        [(row["title"], float(row["score"])) for row in rows],
        title=_("Results of %(title)s", title=round_.title),
        rtl=text_direction(str(get_locale() or "en")) == "rtl",
    )
    return {
        "rows": rows,
        "chart": Markup(chart),
        "pairwise": pairwise,
        "participation": participation,
        "turnout": turnout,
        "titles": titles,
    }


@bp.route("/rounds/<int:round_id>", methods=["GET"])
def round(round_id: int):  # noqa: A001 - the URL's noun
    round_ = _round_or_404(round_id)
    state = voting.round_state(round_)
    ballot = voting.my_ballot(current_user, round_)
    values = {e.item_id: e.value for e in ballot.entries} if ballot else {}
    show = can(current_user, "see_tally", round_) and (state != "upcoming")
    return render_template(
        "agenda/round.html",
        round=round_,
        state=state,
        ballot=ballot,
        values=values,
        results=_results_view(round_) if show else None,
        error=None,
    )


@bp.route("/rounds/<int:round_id>/ballot", methods=["POST"])
def cast(round_id: int):
    round_ = _round_or_404(round_id)
    require(current_user, "vote_in_round", round_)
    typed = {item.id: request.form.get(f"item-{item.id}", "").strip() for item in round_.items}
    try:
        entries = {}
        for item_id, text in typed.items():
            if round_.method == VotingMethod.APPROVAL:
                entries[item_id] = 1 if text else 0
            elif text:
                number = whole_number(text)
                if number is None:
                    raise voting.BallotRejected(_("Enter whole numbers (or leave a box empty)."))
                entries[item_id] = number
        voting.cast_ballot(current_user, round_, entries=entries)
    except voting.BallotRejected as error:
        ballot = voting.my_ballot(current_user, round_)
        return render_template(
            "agenda/round.html",
            round=round_,
            state=voting.round_state(round_),
            ballot=ballot,
            values=typed,
            results=None,
            error=str(error),
        ), 400
    flash(_("Your ballot is saved. You can change it until the round closes."), "success")
    return redirect(url_for("agenda.round", round_id=round_.id))


@bp.route("/rounds/<int:round_id>/ballots.csv")
def ballots_csv(round_id: int):
    round_ = _round_or_404(round_id)
    if round_.results is None:
        abort(404)
    return Response(
        round_results.export_ballots(round_),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=round-{round_.id}-ballots.csv"},
    )
