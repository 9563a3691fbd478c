"""Papers (issue 18, item 3): the list, a paper's page, starting and editing one, its authors.
Who may see what is forum/permissions.py (view_paper, edit_paper, ask_to_join_paper)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from forum.forms.papers import STATUS_LABELS, EditPaperForm, OutsideAuthorForm, PaperForm
from forum.models import FeedKind
from forum.permissions import can, require
from forum.services import (
    agenda,
    calendar_feeds,
    paper_authors,
    paper_bibtex,
    paper_deadlines,
    papers,
)
from forum.services.papers import PaperProblem
from forum.views import calendar_feed_page, id_arg, page_arg, refusal_of_sent_form

bp = Blueprint("papers", __name__)


def visible_paper_or_404(paper_id: int):
    """The paper, if it exists and the reader may see it; else the same 404 as a missing id."""
    number = id_arg(paper_id)
    found = papers.get_paper(number) if number is not None else None
    if found is None or not can(current_user, "view_paper", found):
        abort(404)
    return found


def _offer_agenda_items(form: EditPaperForm) -> None:
    form.agenda_items.choices = [
        SelectChoice(item.id, item.title) for item in papers.agenda_choices(current_user)
    ]


def _show_problem(form: EditPaperForm, problem: PaperProblem) -> None:
    getattr(form, problem.field).errors.append(problem.message)


@bp.route("/papers")
def index():
    require(current_user, "view_papers")
    return render_template(
        "papers/index.html",
        papers=papers.papers_page(current_user, page=page_arg()),
        status_labels=STATUS_LABELS,
    )


@bp.route("/papers/new", methods=["GET", "POST"])
def new():
    require(current_user, "view_papers")  # visitors are sent to log in first
    refused = refusal_of_sent_form("create_paper")
    form = PaperForm()
    _offer_agenda_items(form)
    if not refused and form.validate_on_submit():
        try:
            paper = papers.create_paper(current_user, form.details(), form_token=form.sent_token)
        except PaperProblem as problem:
            _show_problem(form, problem)
        else:
            flash(_("Your paper is started. You are its lead author."), "success")
            return redirect(url_for("papers.paper", paper_id=paper.id))
    status = 403 if refused else 400 if form.errors else 200
    return render_template("papers/edit.html", form=form, paper=None, refused=refused), status


@bp.route("/papers/<int:paper_id>")
def paper(paper_id: int):
    return _paper_page(visible_paper_or_404(paper_id), OutsideAuthorForm())


def _paper_page(paper, outside_form: OutsideAuthorForm):
    return render_template(
        "papers/paper.html",
        paper=paper,
        agenda_items=[i for i in paper.agenda_items if can(current_user, "view_agenda_item", i)],
        status_labels=STATUS_LABELS,
        outside_form=outside_form,
    )


@bp.route("/papers/<int:paper_id>/edit", methods=["GET", "POST"])
def edit(paper_id: int):
    found = visible_paper_or_404(paper_id)
    refused = refusal_of_sent_form("edit_paper", found)
    if request.method == "GET":
        form = EditPaperForm(formdata=None, **_shown(found))
    else:
        form = EditPaperForm()
    _offer_agenda_items(form)
    if request.method == "POST" and not refused and form.validate_on_submit():
        try:
            papers.update_paper(current_user, found, form.details())
        except PaperProblem as problem:
            _show_problem(form, problem)
        else:
            flash(_("The paper is saved."), "success")
            return redirect(url_for("papers.paper", paper_id=found.id))
    status = 403 if refused else 400 if form.errors else 200
    return render_template("papers/edit.html", form=form, paper=found, refused=refused), status


def _shown(paper) -> dict:
    """A stored paper as its form shows it: deadlines as the call's wall time in its zone."""
    values = {
        name: getattr(paper, name)
        for name in ("title", "abstract", "venue", "cfp_url", "url", "doi", "arxiv_id")
    }
    for kind in ("abstract_deadline", "full_deadline"):
        moment, zone = getattr(paper, kind), getattr(paper, f"{kind}_zone")
        values[f"{kind}_zone"] = zone or "AoE"
        if moment is not None:
            values[kind] = moment.astimezone(papers.zone_named(zone)).replace(tzinfo=None)
    values["status"] = paper.status.value
    values["agenda_items"] = [item.id for item in paper.agenda_items]
    return values


# --- Authors ------------------------------------------------------------------------------------


def _back(paper) -> str:
    return url_for("papers.paper", paper_id=paper.id) + "#authors"


@bp.route("/papers/<int:paper_id>/join", methods=["POST"])
def join(paper_id: int):
    found = visible_paper_or_404(paper_id)
    paper_authors.ask_to_join(current_user, found)
    flash(_("You asked to join as a co-author. The lead author will decide."), "success")
    return redirect(_back(found))


@bp.route("/papers/<int:paper_id>/authors/<int:author_id>/accept", methods=["POST"])
def accept(paper_id: int, author_id: int):
    found = visible_paper_or_404(paper_id)
    if paper_authors.accept_coauthor(current_user, found, author_id) is None:
        flash(_("That request was already decided."), "info")
    else:
        flash(_("The co-author is added, last in the list."), "success")
    return redirect(_back(found))


@bp.route("/papers/<int:paper_id>/authors/<int:author_id>/decline", methods=["POST"])
def decline(paper_id: int, author_id: int):
    found = visible_paper_or_404(paper_id)
    if paper_authors.decline_coauthor(current_user, found, author_id):
        flash(_("The request is declined."), "success")
    else:
        flash(_("That request was already decided."), "info")
    return redirect(_back(found))


@bp.route("/papers/<int:paper_id>/authors/<int:author_id>/up", methods=["POST"])
def move_up(paper_id: int, author_id: int):
    found = visible_paper_or_404(paper_id)
    paper_authors.move_author(current_user, found, author_id, by=-1)
    return redirect(_back(found))


@bp.route("/papers/<int:paper_id>/authors/<int:author_id>/down", methods=["POST"])
def move_down(paper_id: int, author_id: int):
    found = visible_paper_or_404(paper_id)
    paper_authors.move_author(current_user, found, author_id, by=1)
    return redirect(_back(found))


@bp.route("/papers/<int:paper_id>/authors/<int:author_id>/remove", methods=["POST"])
def remove_author(paper_id: int, author_id: int):
    found = visible_paper_or_404(paper_id)
    paper_authors.remove_author(current_user, found, author_id)
    return redirect(_back(found))


@bp.route("/papers/<int:paper_id>/authors", methods=["POST"])
def add_author(paper_id: int):
    found = visible_paper_or_404(paper_id)
    require(current_user, "edit_paper", found)
    form = OutsideAuthorForm()
    if form.validate_on_submit():
        try:
            paper_authors.add_outside_author(current_user, found, name=form.name.data)
        except PaperProblem as problem:
            form.name.errors.append(problem.message)
    if form.errors:
        return _paper_page(found, form), 400
    return redirect(_back(found))


# --- Deadlines, their calendar feed, BibTeX -----------------------------------------------------


@bp.route("/papers/deadlines")
def deadlines():
    require(current_user, "view_papers")
    return render_template(
        "papers/deadlines.html", deadlines=paper_deadlines.upcoming_deadlines(current_user)
    )


@bp.route("/papers/deadlines.ics")
def deadlines_ics():
    require(current_user, "view_papers")
    return Response(
        paper_deadlines.deadlines_calendar(current_user),
        mimetype="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="paper-deadlines.ics"'},
    )


@bp.route("/papers/calendar", methods=["GET", "POST"])
@login_required
def calendar():
    return calendar_feed_page(
        FeedKind.PAPER_DEADLINES, template="papers/calendar.html", feed_endpoint="papers.feed"
    )


@bp.route("/papers/feed/<token>.ics")
def feed(token: str):
    """A member's secret feed: the deadlines page as their calendar app sees it, under their
    rights at each fetch (404 once revoked or replaced, or while they are suspended)."""
    member = calendar_feeds.feed_owner(token, FeedKind.PAPER_DEADLINES)
    if member is None:
        abort(404)
    return Response(
        paper_deadlines.deadlines_calendar(member),
        mimetype="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="paper-deadlines.ics"'},
    )


def _bibtex(text: str, filename: str) -> Response:
    return Response(
        text,
        mimetype="application/x-bibtex",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@bp.route("/papers/<int:paper_id>.bib")
def bibtex(paper_id: int):
    found = visible_paper_or_404(paper_id)
    return _bibtex(paper_bibtex.paper_entry(found), f"paper-{found.id}.bib")


@bp.route("/agenda/<int:item_id>/papers.bib")
def agenda_item_bibtex(item_id: int):
    number = id_arg(item_id)
    item = agenda.get_item(number) if number is not None else None
    if item is None or not can(current_user, "view_agenda_item", item):
        abort(404)
    found = paper_bibtex.agenda_item_papers(current_user, item)
    return _bibtex(paper_bibtex.bibliography(found), f"agenda-{item.id}-papers.bib")
