"""Institutions (issue 14): the typeahead the apply and profile forms use, and the moderators'
page for confirming proposed institutions and merging spellings."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from forum.forms.institutions import ConfirmInstitutionForm, MergeInstitutionForm
from forum.models import Institution
from forum.permissions import require
from forum.services import institution_curation, institutions
from forum.services.institutions import InstitutionError
from forum.views import first_error, page_arg

bp = Blueprint("institutions", __name__)


@bp.route("/api/institutions/suggest")
def suggest():
    """Confirmed institutions matching the typed text, for the typeahead (JSON)."""
    found = institutions.suggest_institutions(current_user, request.args.get("q", ""))
    return jsonify([{"id": i.id, "name": i.name} for i in found])


@bp.route("/moderation/institutions")
def curation():
    page = institution_curation.curation_page(current_user, page=page_arg())
    return render_template(
        "moderation/institutions.html",
        page=page,
        confirm_form=ConfirmInstitutionForm(),
        merge_form=MergeInstitutionForm(),
    )


def _curated(institution_id: int) -> Institution:
    require(current_user, "moderate_institutions")
    return institution_curation.get_institution(institution_id) or abort(404)


def _done(change, form):
    """Run one curation once its form is complete, then back to the page with how it went."""
    if not form.validate_on_submit():
        flash(first_error(form), "error")
    else:
        try:
            change(form)
        except InstitutionError as error:
            flash(str(error), "error")
        else:
            flash(_("Done."), "success")
    return redirect(url_for("institutions.curation"))


@bp.route("/moderation/institutions/<int:institution_id>/confirm", methods=["POST"])
def confirm(institution_id: int):
    found = _curated(institution_id)
    return _done(
        lambda form: institution_curation.confirm_institution(
            current_user, found, name=form.name.data, domains=form.domains.data
        ),
        ConfirmInstitutionForm(),
    )


@bp.route("/moderation/institutions/<int:institution_id>/merge", methods=["POST"])
def merge(institution_id: int):
    found = _curated(institution_id)
    return _done(
        lambda form: institution_curation.merge_into_named(
            current_user, found, name=form.into.data
        ),
        MergeInstitutionForm(),
    )
