"""Guidelines drafted together (issue 18, item 2): the list, a document with its sections and
suggested edits, its versions and the diff between two, and the editors' and members' forms.
Who may do what is forum/permissions.py's (view_guideline, edit_guideline, ...)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.forms.guidelines import (
    DeclineForm,
    EditorsForm,
    EditSectionForm,
    GuidelineForm,
    NewSectionForm,
    StateForm,
    SuggestionForm,
)
from forum.models import GuidelineState
from forum.permissions import can, require
from forum.services import guideline_links, guideline_releases, guidelines
from forum.services import guideline_suggestions as suggestions
from forum.services.guidelines import GuidelineProblem
from forum.views import first_error, id_arg, refusal_of_sent_form
from forum.word_diff import word_diff

bp = Blueprint("guidelines", __name__)


@bp.context_processor
def _helpers() -> dict:
    return {
        "state_label": lambda state: guidelines.STATE_LABELS[GuidelineState(state)],
        "word_diff": word_diff,
    }


def _guideline_or_404(guideline_id):
    number = id_arg(guideline_id)
    found = guidelines.get_guideline(number) if number is not None else None
    if found is None or not can(current_user, "view_guideline", found):
        abort(404)
    return found


def _section_or_404(guideline, section_id):
    number = id_arg(section_id)
    found = guidelines.get_section(number) if number is not None else None
    if found is None or found.guideline_id != guideline.id:
        abort(404)
    return found


def _suggestion_or_404(guideline, suggestion_id):
    number = id_arg(suggestion_id)
    found = suggestions.get_suggestion(number) if number is not None else None
    if found is None or found.section.guideline_id != guideline.id:
        abort(404)
    return found


def _show(problem: GuidelineProblem, form) -> None:
    field = getattr(form, problem.field, None) if problem.field else None
    if field is not None:
        field.errors.append(problem.message)
    else:
        form.form_errors.append(problem.message)


def _status(refusal, form) -> int:
    """403 for a form refused since it was opened (issue 17), 409 for a text based on a version
    the section has changed since, 400 for a field to correct."""
    return 403 if refusal else 409 if form.form_errors else 400 if form.errors else 200


@bp.route("/guidelines")
def index():
    return render_template(
        "guidelines/index.html", documents=guidelines.readable_list(current_user)
    )


@bp.route("/guidelines/new", methods=["GET", "POST"])
@login_required
def new():
    require(current_user, "create_guideline")
    form = GuidelineForm()
    if form.validate_on_submit():
        try:
            document = guidelines.create_guideline(
                current_user,
                title=form.title.data,
                editor_emails=form.editor_emails,
                form_token=form.sent_token,
            )
        except GuidelineProblem as problem:
            _show(problem, form)
        else:
            flash(_("The guideline is started as a draft."), "success")
            return redirect(url_for("guidelines.document", guideline_id=document.id))
    return render_template("guidelines/new.html", form=form), 400 if form.errors else 200


@bp.route("/guidelines/<int:guideline_id>")
def document(guideline_id: int):
    document = _guideline_or_404(guideline_id)
    editing = can(current_user, "edit_guideline", document)
    return render_template(
        "guidelines/document.html",
        document=document,
        editing=editing,
        open_suggestions=suggestions.open_suggestions(document) if editing else [],
        own_suggestions=suggestions.suggestions_by(current_user, document),
        section_form=NewSectionForm(formdata=None),
        state_form=StateForm(formdata=None, state=document.state),
        editors_form=EditorsForm(
            formdata=None, editors="\n".join(e.email for e in document.editors)
        ),
        decline_form=DeclineForm(formdata=None),
        next_states=guidelines.NEXT_STATES[GuidelineState(document.state)],
        state_labels=guidelines.STATE_LABELS,
        releases=guideline_releases.releases_of(document),
    )


@bp.route("/guidelines/<int:guideline_id>/sections", methods=["POST"])
@login_required
def add_section(guideline_id: int):
    document = _guideline_or_404(guideline_id)
    form = NewSectionForm()
    refusal = refusal_of_sent_form("edit_guideline", document)
    if refusal is None and form.validate_on_submit():
        guidelines.add_section(
            current_user,
            document,
            heading=form.heading.data,
            body=form.body.data,
            reason=form.reason.data,
            form_token=form.sent_token,
        )
        flash(_("The section is added."), "success")
        return redirect(url_for("guidelines.document", guideline_id=document.id))
    return render_template(
        "guidelines/section.html", document=document, section=None, form=form, refused=refusal
    ), 403 if refusal else 400


@bp.route("/guidelines/<int:guideline_id>/sections/<int:section_id>/edit", methods=["GET", "POST"])
@login_required
def edit_section(guideline_id: int, section_id: int):
    document = _guideline_or_404(guideline_id)
    section = _section_or_404(document, section_id)
    refusal = refusal_of_sent_form("edit_guideline", document)
    form = EditSectionForm()
    if request.method == "GET":
        form = EditSectionForm(
            formdata=None,
            heading=section.heading,
            body=section.body,
            base_version=section.changed_in,
            agenda_items="\n".join(str(i) for i in guideline_links.agenda_item_ids(section)),
        )
    elif refusal is None and form.validate_on_submit():
        try:
            guidelines.edit_section(
                current_user,
                section,
                heading=form.heading.data,
                body=form.body.data,
                reason=form.reason.data,
                base_version=form.base,
                agenda_item_refs=form.agenda_item_refs(),
            )
        except GuidelineProblem as problem:
            _show(problem, form)
        else:
            flash(_("The section is saved."), "success")
            return redirect(url_for("guidelines.document", guideline_id=document.id))
    status = _status(refusal, form)
    return render_template(
        "guidelines/section.html", document=document, section=section, form=form, refused=refusal
    ), status


@bp.route("/guidelines/<int:guideline_id>/sections/<int:section_id>/move", methods=["POST"])
@login_required
def move_section(guideline_id: int, section_id: int):
    document = _guideline_or_404(guideline_id)
    section = _section_or_404(document, section_id)
    guidelines.move_section(current_user, section, up=request.form.get("direction") == "up")
    return redirect(url_for("guidelines.document", guideline_id=document.id))


@bp.route("/guidelines/<int:guideline_id>/state", methods=["POST"])
@login_required
def change_state(guideline_id: int):
    document = _guideline_or_404(guideline_id)
    form = StateForm()
    if form.validate_on_submit():
        try:
            guidelines.change_state(current_user, document, to=GuidelineState(form.state.data))
        except GuidelineProblem as problem:
            flash(str(problem.message), "error")
        else:
            flash(_("The document's state is changed."), "success")
    else:
        flash(first_error(form), "error")
    return redirect(url_for("guidelines.document", guideline_id=document.id))


@bp.route("/guidelines/<int:guideline_id>/editors", methods=["POST"])
@login_required
def choose_editors(guideline_id: int):
    document = _guideline_or_404(guideline_id)
    form = EditorsForm()
    if form.validate_on_submit():
        try:
            guidelines.choose_editors(current_user, document, editor_emails=form.editor_emails)
        except GuidelineProblem as problem:
            flash(str(problem.message), "error")
        else:
            flash(_("The editors are saved."), "success")
    else:
        flash(first_error(form), "error")
    return redirect(url_for("guidelines.document", guideline_id=document.id))


@bp.route(
    "/guidelines/<int:guideline_id>/sections/<int:section_id>/suggest", methods=["GET", "POST"]
)
@login_required
def suggest(guideline_id: int, section_id: int):
    document = _guideline_or_404(guideline_id)
    section = _section_or_404(document, section_id)
    refusal = refusal_of_sent_form("suggest_guideline_edit", document)
    form = SuggestionForm()
    if request.method == "GET":
        form = SuggestionForm(formdata=None, body=section.body, base_version=section.changed_in)
    elif refusal is None and form.validate_on_submit():
        try:
            suggestions.suggest_edit(
                current_user,
                section,
                body=form.body.data,
                reason=form.reason.data,
                base_version=form.base,
                form_token=form.sent_token,
            )
        except GuidelineProblem as problem:
            _show(problem, form)
        else:
            flash(_("Your suggestion is sent to the editors."), "success")
            return redirect(url_for("guidelines.document", guideline_id=document.id))
    status = _status(refusal, form)
    return render_template(
        "guidelines/suggest.html", document=document, section=section, form=form, refused=refusal
    ), status


@bp.route("/guidelines/<int:guideline_id>/suggestions/<int:suggestion_id>/accept", methods=["POST"])
@login_required
def accept(guideline_id: int, suggestion_id: int):
    document = _guideline_or_404(guideline_id)
    suggestion = _suggestion_or_404(document, suggestion_id)
    try:
        number = suggestions.accept_suggestion(current_user, suggestion)
    except GuidelineProblem as problem:
        flash(str(problem.message), "error")
        return redirect(url_for("guidelines.document", guideline_id=document.id))
    flash(_("The suggestion is accepted as version %(n)d.", n=number), "success")
    return redirect(
        url_for("guidelines.diff", guideline_id=document.id, old=number - 1, new=number)
    )


@bp.route(
    "/guidelines/<int:guideline_id>/suggestions/<int:suggestion_id>/decline", methods=["POST"]
)
@login_required
def decline(guideline_id: int, suggestion_id: int):
    document = _guideline_or_404(guideline_id)
    suggestion = _suggestion_or_404(document, suggestion_id)
    form = DeclineForm()
    if form.validate_on_submit():
        try:
            suggestions.decline_suggestion(current_user, suggestion, note=form.note.data)
        except GuidelineProblem as problem:
            flash(str(problem.message), "error")
        else:
            flash(_("The suggestion is declined."), "info")
    else:
        flash(first_error(form), "error")
    return redirect(url_for("guidelines.document", guideline_id=document.id))


@bp.route("/guidelines/<int:guideline_id>/versions")
def versions(guideline_id: int):
    document = _guideline_or_404(guideline_id)
    return render_template(
        "guidelines/versions.html", document=document, versions=guidelines.versions_of(document)
    )


@bp.route("/guidelines/<int:guideline_id>/versions/<int:number>")
def version(guideline_id: int, number: int):
    document = _guideline_or_404(guideline_id)
    found = guidelines.version_of(document, number)
    if found is None:
        abort(404)
    return render_template(
        "guidelines/version.html",
        document=document,
        version=found,
        version_html=guidelines.render_text(found.text),
    )


@bp.route("/guidelines/<int:guideline_id>/diff")
def diff(guideline_id: int):
    document = _guideline_or_404(guideline_id)
    old, new = id_arg(request.args.get("old", "")), id_arg(request.args.get("new", ""))
    changes = guidelines.diff_versions(document, old, new) if None not in (old, new) else None
    if changes is None:
        abort(404)
    return render_template(
        "guidelines/diff.html", document=document, old=old, new=new, changes=changes
    )
