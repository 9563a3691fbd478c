"""The home page, topic areas, topics, replies and posts."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from forum.forms.discussions import EditOpeningPostForm, EditPostForm, ReplyForm, TopicForm
from forum.models import Post, Topic, TopicKind
from forum.permissions import require
from forum.services import discussions
from forum.views import page_arg

bp = Blueprint("discussions", __name__)


def post_url(post: Post, **values) -> str:
    """The address of a post on the page of its topic that shows it."""
    page = discussions.page_of_post(post)
    return url_for(
        "discussions.topic",
        topic_id=post.topic_id,
        slug=post.topic.slug,
        page=page if page > 1 else None,
        _anchor=f"post-{post.id}",
        **values,
    )


def _topic_or_404(topic_id: int) -> Topic:
    return discussions.get_topic(topic_id) or abort(404)


def _post_or_404(post_id: int) -> Post:
    return discussions.get_post(post_id) or abort(404)


@bp.route("/")
def home():
    return render_template(
        "home.html",
        categories=discussions.list_categories(viewer=current_user),
        latest=discussions.latest_topics_by_category(viewer=current_user),
    )


@bp.route("/c/<slug>")
def category(slug: str):
    area = discussions.get_category(slug) or abort(404)
    require(current_user, "view_category", area)
    return render_template(
        "category.html", category=area, topics=discussions.category_topics(area, page=page_arg())
    )


@bp.route("/c/<slug>/new", methods=["GET", "POST"])
def new_topic(slug: str):
    area = discussions.get_category(slug) or abort(404)
    require(current_user, "create_topic", area)
    form = TopicForm()
    if form.validate_on_submit():
        topic = discussions.create_topic(
            current_user,
            area,
            title=form.title.data,
            body=form.body.data,
            kind=TopicKind(form.kind.data),
        )
        flash(_("Your topic is posted."), "success")
        return redirect(url_for("discussions.topic", topic_id=topic.id, slug=topic.slug))
    status = 400 if form.errors else 200
    return render_template("new_topic.html", category=area, form=form), status


@bp.route("/t/<int:topic_id>")
@bp.route("/t/<int:topic_id>/<slug>")
def topic(topic_id: int, slug: str | None = None):
    found = _topic_or_404(topic_id)
    require(current_user, "view_topic", found)
    if slug != found.slug:
        return redirect(
            url_for("discussions.topic", topic_id=found.id, slug=found.slug, **request.args),
            301,
        )
    posts = discussions.topic_posts(found, page=page_arg())
    return render_template("topic.html", topic=found, posts=posts, form=ReplyForm())


@bp.route("/t/<int:topic_id>/reply", methods=["GET", "POST"])
def reply(topic_id: int):
    found = _topic_or_404(topic_id)
    require(current_user, "reply", found)
    form = ReplyForm()
    parent_id = form.parent_id.data or request.args.get("to")
    parent = discussions.get_post(int(parent_id)) if str(parent_id or "").isdigit() else None
    if parent is not None and parent.topic_id != found.id:
        abort(404)
    if parent is not None:
        form.parent_id.data = str(parent.id)
    if form.validate_on_submit():
        post = discussions.post_reply(current_user, found, body=form.body.data, parent=parent)
        flash(_("Your reply is posted."), "success")
        return redirect(post_url(post))
    status = 400 if form.errors else 200
    return render_template("reply.html", topic=found, parent=parent, form=form), status


@bp.route("/p/<int:post_id>")
def post(post_id: int):
    """A permalink: finds the page of the topic that shows the post, however long the topic."""
    found = _post_or_404(post_id)
    require(current_user, "view_topic", found.topic)
    return redirect(post_url(found))


@bp.route("/p/<int:post_id>/edit", methods=["GET", "POST"])
def edit_post(post_id: int):
    found = _post_or_404(post_id)
    require(current_user, "edit_post", found)
    form_class = EditOpeningPostForm if found.is_opening_post else EditPostForm
    form = form_class(data={"body": found.body, "title": found.topic.title})
    if form.validate_on_submit():
        discussions.edit_post(
            current_user,
            found,
            body=form.body.data,
            title=form.title.data if found.is_opening_post else None,
        )
        flash(_("Your changes are saved."), "success")
        return redirect(post_url(found))
    status = 400 if form.errors else 200
    return render_template("edit_post.html", post=found, form=form), status


@bp.route("/p/<int:post_id>/delete", methods=["POST"])
def delete_post(post_id: int):
    found = _post_or_404(post_id)
    discussions.delete_post(current_user, found)
    flash(_("The post is deleted."), "info")
    return redirect(post_url(found))


@bp.route("/p/<int:post_id>/history")
def post_history(post_id: int):
    found = _post_or_404(post_id)
    require(current_user, "view_topic", found.topic)
    require(current_user, "view_revisions", found)
    return render_template(
        "post_history.html", post=found, revisions=discussions.post_revisions(found)
    )
