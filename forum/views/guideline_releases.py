"""A guideline's releases (issue 18, item 2): the release page at its stable address
(/guidelines/<id>/v1.0), its citation in BibTeX, CSL-JSON and plain text, and endorsing it."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum import citations
from forum.mail import DEFAULT_SITE_NAME
from forum.permissions import can
from forum.services import guideline_releases as releases
from forum.services import guidelines

bp = Blueprint("guideline_releases", __name__)

RELEASE = "/guidelines/<int:guideline_id>/v<int(max=9999):major>.<int(max=9999):minor>"
CITATION_TYPES = {
    "bib": ("application/x-bibtex; charset=utf-8", citations.bibtex),
    "json": ("application/vnd.citationstyles.csl+json; charset=utf-8", citations.csl_json),
    "txt": ("text/plain; charset=utf-8", citations.plain_text),
}


def _release_or_404(guideline_id: int, major: int, minor: int):
    found = releases.get_release(guideline_id, major, minor)
    if found is None or not can(current_user, "view_guideline_release", found):
        abort(404)
    return found


def _citable(release) -> citations.Citable:
    address = url_for(
        "guideline_releases.release",
        guideline_id=release.guideline_id,
        major=release.major,
        minor=release.minor,
        _external=True,
    )
    return citations.Citable(
        key=f"guideline{release.guideline_id}_v{release.major}_{release.minor}",
        title=release.title,
        authors=releases.editor_names(release),
        version=release.label,
        published_at=release.published_at,
        url=address,
        publisher=current_app.config["FORUM_SITE_NAME"] or str(_(DEFAULT_SITE_NAME)),
    )


@bp.route(RELEASE)
def release(guideline_id: int, major: int, minor: int):
    found = _release_or_404(guideline_id, major, minor)
    return render_template(
        "guidelines/release.html",
        release=found,
        text_html=guidelines.render_text(found.text),
        editors=releases.editor_names(found),
        changelog=releases.changelog(found),
        endorsements=releases.endorsements(found),
        endorsed=releases.has_endorsed(current_user, found),
        citation=citations.plain_text(_citable(found)),
    )


@bp.route(RELEASE + "/cite.<any(bib, json, txt):kind>")
def cite(guideline_id: int, major: int, minor: int, kind: str):
    found = _release_or_404(guideline_id, major, minor)
    content_type, render = CITATION_TYPES[kind]
    response = current_app.response_class(render(_citable(found)), content_type=content_type)
    response.headers["Content-Disposition"] = (
        f'inline; filename="guideline-{guideline_id}-v{found.label}.{kind}"'
    )
    return response


@bp.route(RELEASE + "/endorse", methods=["POST"])
@login_required
def endorse(guideline_id: int, major: int, minor: int):
    found = _release_or_404(guideline_id, major, minor)
    releases.endorse(current_user, found)
    flash(_("You endorse release v%(label)s.", label=found.label), "success")
    return redirect(url_for(".release", guideline_id=guideline_id, major=major, minor=minor))


@bp.route(RELEASE + "/withdraw", methods=["POST"])
@login_required
def withdraw(guideline_id: int, major: int, minor: int):
    found = _release_or_404(guideline_id, major, minor)
    releases.withdraw_endorsement(current_user, found)
    flash(_("Your endorsement is withdrawn."), "info")
    return redirect(url_for(".release", guideline_id=guideline_id, major=major, minor=minor))
