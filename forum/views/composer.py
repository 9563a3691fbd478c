"""The composer's helpers: the live preview (JSON) and the formatting help page (issue 17)."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from forum import formatting_help
from forum.forms.discussions import PreviewForm
from forum.input_checks import CONTROL_IN_FORM_VALUE, ControlCharactersRefused
from forum.permissions import can
from forum.services import posting

bp = Blueprint("composer", __name__)


@bp.route("/api/preview", methods=["POST"])
def preview():
    """``{"body": "..."}`` -> ``{"html": ...}``, the sanitised HTML the post will have;
    ``{"error": ...}`` with 400 for a body the form would refuse, 403 for who may not write."""
    decision = can(current_user, "preview_post")
    if not decision:
        return jsonify({"error": str(decision.reason)}), 403
    sent = request.get_json(silent=True)
    body = sent.get("body") if isinstance(sent, dict) else None
    if not isinstance(body, str):
        return jsonify({"error": _("The preview request could not be read.")}), 400
    if CONTROL_IN_FORM_VALUE.search(body):  # as input_checks refuses it in a form (issue 13)
        raise ControlCharactersRefused()
    form = PreviewForm(formdata=MultiDict({"body": body}))
    if not form.validate():
        return jsonify({"error": " ".join(str(e) for e in form.body.errors)}), 400
    return jsonify({"html": posting.preview_body(current_user, form.body.data)})


@bp.route("/help/formatting")
def formatting():
    """What Markdown posts accept, each example rendered by markup.py (anyone may read it)."""
    return render_template(
        "help/formatting.html",
        sections=formatting_help.rendered_sections(),
        limits=formatting_help.limits(),
    )
