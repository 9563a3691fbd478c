"""The public pages (about, charter, code of conduct, privacy notice) and their edit form."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from forum.forms.pages import PageForm
from forum.markup import render_markdown
from forum.permissions import require
from forum.services import pages, sharing

bp = Blueprint("pages", __name__)


def _page_or_404(slug: str) -> pages.ShownPage:
    return pages.get_page(slug) or abort(404)


def page(slug: str):
    shown = _page_or_404(slug)
    return render_template("pages/page.html", page=shown, share=sharing.page_card(shown))


for _slug in pages.PAGES:  # /about, /charter, /code-of-conduct, /privacy: one view
    bp.add_url_rule(f"/{_slug}", "page", page, defaults={"slug": _slug})


@bp.route("/admin/pages/<slug>", methods=["GET", "POST"])
def edit(slug: str):
    shown = _page_or_404(slug)
    require(current_user, "edit_public_pages")
    form = PageForm(data={"body": shown.body})
    preview = None
    if request.method == "POST" and "preview" in request.form:
        form.validate()
        preview = None if form.body.errors else render_markdown(form.body.data or "")
    elif form.validate_on_submit():
        pages.edit_page(current_user, slug, body=form.body.data)
        flash(_("The page is saved."), "success")
        return redirect(url_for("pages.page", slug=slug))
    status = 400 if form.errors else 200
    return render_template("pages/edit.html", page=shown, form=form, preview=preview), status
