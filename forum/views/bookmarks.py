"""A member's bookmarks (issue 17, item 6): bookmark a post, the /bookmarks page, a bookmark's
note and reminder, removing it. Only members; suspended members keep theirs (permissions.py)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.forms.bookmarks import BookmarkForm
from forum.permissions import can
from forum.services import bookmarks
from forum.services.bookmarks import BookmarkProblem
from forum.views import id_arg, page_arg, safe_next, visible_post_or_404

bp = Blueprint("bookmarks", __name__)


def _own_bookmark_or_404(bookmark_id: int):
    """The reader's bookmark, while its post is there for them; else the 404 of a missing id."""
    number = id_arg(bookmark_id)
    found = bookmarks.get_bookmark(number) if number is not None else None
    if found is None or not can(current_user, "view_bookmark", found):
        abort(404)
    return found


@bp.route("/bookmarks")
@login_required
def index():
    return render_template(
        "bookmarks/index.html",
        bookmarks=bookmarks.bookmarks_page(current_user, page=page_arg()),
    )


@bp.route("/p/<int:post_id>/bookmark", methods=["POST"])
def create(post_id: int):
    """Bookmark a post: one click from the post, or with a note and reminder from the form."""
    post = visible_post_or_404(post_id)  # before asking to log in: an id tells nothing
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    form = BookmarkForm()
    if form.validate_on_submit():
        try:
            bookmark = bookmarks.bookmark_post(
                current_user, post, note=form.note.data or "", remind_at=form.remind_at_utc
            )
        except BookmarkProblem as problem:
            getattr(form, problem.field).errors.append(problem.message)
        else:
            flash(_("Bookmarked. Add a note or a reminder from “Note and reminder”."), "success")
            return redirect(safe_next(request.form.get("next"), _post_address(bookmark)))
    return render_template("bookmarks/edit.html", form=form, post=post, bookmark=None), 400


@bp.route("/bookmarks/<int:bookmark_id>/edit", methods=["GET", "POST"])
@login_required
def edit(bookmark_id: int):
    bookmark = _own_bookmark_or_404(bookmark_id)
    form = BookmarkForm()
    if request.method == "GET":
        form = BookmarkForm(formdata=None, note=bookmark.note)
        form.show_reminder(bookmark.remind_at)
    elif form.validate_on_submit():
        try:
            bookmarks.update_bookmark(
                current_user, bookmark, note=form.note.data or "", remind_at=form.remind_at_utc
            )
        except BookmarkProblem as problem:
            getattr(form, problem.field).errors.append(problem.message)
        else:
            flash(_("Your bookmark is saved."), "success")
            return redirect(url_for("bookmarks.index"))
    status = 400 if form.errors else 200
    return render_template(
        "bookmarks/edit.html", form=form, post=bookmark.post, bookmark=bookmark
    ), status


@bp.route("/bookmarks/<int:bookmark_id>/remove", methods=["POST"])
@login_required
def remove(bookmark_id: int):
    bookmark = _own_bookmark_or_404(bookmark_id)  # the CSRF token is checked for every POST
    bookmarks.remove_bookmark(current_user, bookmark)
    flash(_("The bookmark is removed."), "info")
    return redirect(safe_next(request.form.get("next"), url_for("bookmarks.index")))


def _post_address(bookmark) -> str:
    return url_for("discussions.post", post_id=bookmark.post_id)
