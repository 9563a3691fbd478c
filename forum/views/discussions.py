"""The home page, topic lists, topics, replies, posts, votes, accepted answers and tags."""

from __future__ import annotations

from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from forum.forms.discussions import (
    EditOpeningPostForm,
    EditPostForm,
    ReplyForm,
    TagForm,
    TopicForm,
)
from forum.forms.fields import start_of_day
from forum.forms.moderation import FlagForm
from forum.models import Post, Topic, TopicKind
from forum.permissions import can, require
from forum.services import (
    accounts,
    disclosure,
    notifications,
    posting,
    read_state,
    reading,
    search,
    sharing,
    tags,
    topic_areas,
    topic_counts,
    topic_curation,
    topic_lists,
    topic_surgery,
    votes,
)
from forum.services.tags import TagProblem
from forum.views import (
    STALE_FORM,
    page_arg,
    refusal_of_sent_form,
    visible_post_or_404,
    visible_topic_or_404,
)
from forum.views.attachments import posted_keys, take_uploads

bp = Blueprint("discussions", __name__)


def post_url(post: Post, *, explicit_page: bool = False, **values) -> str:
    """The address of a post on the page of its topic that shows it.

    ``explicit_page`` always names the page, even page 1: the topic view sends readers without
    a page to their first unread post, and that must not send them round in a circle.
    """
    page = reading.page_of_post(post)
    return url_for(
        "discussions.topic",
        topic_id=post.topic_id,
        slug=post.topic.slug,
        page=page if page > 1 or explicit_page else None,
        _anchor=f"post-{post.id}",
        **values,
    )


def _topic_or_404(topic_id: int) -> Topic:
    return visible_topic_or_404(topic_id)


def _post_or_404(post_id: int) -> Post:
    return visible_post_or_404(post_id)


def _list_query() -> topic_lists.ListQuery:
    return topic_lists.ListQuery(
        sort=request.args.get("sort", "latest"),
        status=request.args.get("status", ""),
        period=request.args.get("period", "week"),
        tag=request.args.get("tag", ""),
        page=page_arg(),
    )


# --- Lists ---------------------------------------------------------------------------------------


@bp.route("/")
def home():
    areas = topic_areas.list_categories(viewer=current_user)
    return render_template(
        "home.html",
        pinned=topic_lists.pinned_across_forum(current_user),
        categories=areas,
        topic_counts=topic_counts.area_topic_counts(current_user, areas),
        latest=topic_areas.latest_topics_by_category(areas, viewer=current_user),
        featured=topic_curation.featured_topics(current_user),
    )


@bp.route("/latest")
def latest():
    query = _list_query()
    return render_template(
        "topic_list.html",
        topics=topic_lists.topic_list(current_user, query),
        query=query,
        endpoint="discussions.latest",
        endpoint_args={},
        all_tags=tags.all_tags(),
    )


@bp.route("/c/<slug>")
def category(slug: str):
    area = topic_areas.get_category(slug) or abort(404)
    require(current_user, "view_category", area)
    query = _list_query()
    return render_template(
        "category.html",
        category=area,
        topics=topic_lists.topic_list(current_user, query, category=area),
        watching=notifications.watch_level(current_user, "category", area.id)
        if current_user.is_authenticated
        else None,
        query=query,
        endpoint="discussions.category",
        endpoint_args={"slug": area.slug},
        all_tags=tags.all_tags(),
    )


@bp.route("/tags")
def tag_index():
    return _tags_page(TagForm())


def _tags_page(form: TagForm, status: int = 200):
    every_tag = tags.all_tags()
    counts = topic_counts.tag_topic_counts(current_user, every_tag)
    return render_template("tags.html", tags=every_tag, counts=counts, form=form), status


@bp.route("/tags/<slug>")
def tag(slug: str):
    found = tags.get_tag(slug) or abort(404)
    query = _list_query()
    query.tag = found.slug
    return render_template(
        "tag.html",
        tag=found,
        topics=topic_lists.topic_list(current_user, query),
        query=query,
        endpoint="discussions.tag",
        endpoint_args={"slug": found.slug},
        all_tags=[],
    )


@bp.route("/tags", methods=["POST"])
def create_tag():
    require(current_user, "manage_tags")
    form = TagForm()
    if form.validate_on_submit():
        try:
            created = tags.create_tag(
                current_user, name=form.name.data, description=form.description.data or ""
            )
        except tags.TagError as error:
            form.name.errors.append(
                _("That tag exists already.")
                if error.problem is TagProblem.EXISTS
                else _("Use lower-case letters, digits and hyphens, 2 to 40 characters.")
            )
        else:
            flash(_("The tag %(name)s is added.", name=created.name), "success")
            return redirect(url_for("discussions.tag_index"))
    return _tags_page(form, 400)


@bp.route("/tags/<slug>/delete", methods=["POST"])
def delete_tag(slug: str):
    found = tags.get_tag(slug) or abort(404)
    tags.delete_tag(current_user, found)
    flash(
        _("The tag %(name)s is removed from the list and from its topics.", name=found.name), "info"
    )
    return redirect(url_for("discussions.tag_index"))


# --- Writing a topic -------------------------------------------------------------------


def _topic_form(area) -> TopicForm:
    form = TopicForm()
    form.tags.choices = [(t.id, t.name) for t in tags.all_tags()]
    if not can(current_user, "create_restricted_topic", area):
        form.without_restriction()
    return form


def _resource(form: TopicForm) -> posting.Resource:
    return posting.Resource(url=form.resource_url.data or "", doi=form.doi.data or "")


@bp.route("/c/<slug>/new", methods=["GET", "POST"])
def new_topic(slug: str):
    area = topic_areas.get_category(slug) or abort(404)
    refused = refusal_of_sent_form("create_topic", area)
    form = _topic_form(area)
    preview = duplicates = None
    # Files sent are kept whatever else the form lacks (forum.views.attachments.take_uploads).
    valid = request.method == "POST" and all([form.validate(), take_uploads(form)])
    if request.method == "POST" and "preview" in request.form:
        # A body the form refuses (too long, too much markup) is not rendered (issue 13).
        preview = None if form.body.errors else posting.preview_body(current_user, form.body.data)
    elif valid and not refused:
        duplicates = reading.find_shared_resource(_resource(form), viewer=current_user)
        if not duplicates or form.confirm_duplicate.data:
            fields = {
                "title": form.title.data,
                "body": form.body.data,
                "kind": TopicKind(form.kind.data),
                "resource": _resource(form),
                "tag_ids": form.tags.data or [],
                "form_token": form.sent_token,
                "attachment_keys": posted_keys(form),
            }
            if form.is_restricted:
                until = start_of_day(form.restricted_until.data, current_user.timezone)
                topic = disclosure.open_restricted_topic(
                    current_user,
                    area,
                    restricted_until=until,
                    invited=form.invited_members,
                    **fields,
                )
            else:
                topic = posting.create_topic(current_user, area, **fields)
            flash(_("Your topic is posted."), "success")
            return redirect(url_for("discussions.topic", topic_id=topic.id, slug=topic.slug))
    similar = (
        search.similar_to_draft(current_user, title=form.title.data)
        if request.method == "POST" and form.title.data
        else []
    )
    status = STALE_FORM if refused else 400 if form.errors or duplicates else 200
    return render_template(
        "new_topic.html",
        category=area,
        form=form,
        preview=preview,
        duplicates=duplicates,
        similar=similar,
        refused=refused,
    ), status


@bp.route("/api/topics/similar")
def similar():
    """Topics like the one being written, for the composer's live suggestions (JSON)."""
    require(current_user, "create_topic", None)
    found = search.similar_to_draft(current_user, title=request.args.get("title", "")[:300])
    return jsonify(
        [
            {"title": t.title, "url": url_for("discussions.topic", topic_id=t.id, slug=t.slug)}
            for t in found
        ]
    )


@bp.route("/api/members/suggest")
def suggest_members():
    """Members whose handle or name starts with the typed text, for @mention suggestions."""
    require(current_user, "suggest_members")
    return jsonify(
        [
            {"handle": u.handle, "name": u.display_name}
            for u in accounts.suggest_handles(request.args.get("q", ""))
        ]
    )


# --- Reading a topic -------------------------------------------------------------------


@bp.route("/t/<int:topic_id>")
@bp.route("/t/<int:topic_id>/<slug>")
def topic(topic_id: int, slug: str | None = None):
    found = reading.get_topic(topic_id) or abort(404)
    if found.merged_into_id is not None:  # merged away: its old address leads to the merged topic
        merged = topic_surgery.resolve_merged(found)
        if not can(current_user, "view_topic", merged):
            abort(404)
        return redirect(url_for("discussions.topic", topic_id=merged.id, slug=merged.slug), 301)
    if not can(current_user, "view_topic", found):
        abort(404)
    if slug != found.slug:  # keep the page asked for; other query names could clash with url_for's
        page = request.args.get("page")
        return redirect(
            url_for("discussions.topic", topic_id=found.id, slug=found.slug, page=page), 301
        )
    last_read = read_state.last_read_number(current_user, found)
    if "page" not in request.args:
        unread = read_state.where_to_resume(found, last_read)
        if unread is not None:
            return redirect(post_url(unread, explicit_page=True))  # open where they stopped
    return render_topic(found, page=page_arg(), last_read=last_read)


def render_topic(
    found: Topic, *, page: int, last_read: int | None = None, flag: FlagAttempt | None = None
) -> str:
    """A page of a topic the reader may see; with ``flag``, a flag form that failed, shown open
    at its post with its errors and the reader's choice (forum.views.moderation.flag)."""
    if last_read is None:
        last_read = read_state.last_read_number(current_user, found)
    shown = reading.topic_page(current_user, found, page=page)
    html = render_template(
        "topic.html",
        topic=found,
        posts=shown.posts,
        # formdata=None: a failed flag renders this page too, and its fields (its one-time
        # token) must not fill the reply box.
        form=ReplyForm(formdata=None),
        voted=shown.voted,
        bookmarked=shown.bookmarked,
        flagged=shown.flagged,
        flag=flag,
        watching=shown.watching,
        accepted=shown.accepted,
        panel=shown.panel,
        share=sharing.topic_card(found, shown=shown.posts.items),
    )
    # After rendering: recording the read position commits, which would expire what is shown.
    read_state.mark_read(current_user, found, shown.posts.items, last_read=last_read)
    return html


@dataclass
class FlagAttempt:
    """A flag form sent with something missing, to show again at the post it was for."""

    post_id: int
    form: FlagForm


def _post_in_topic(topic: Topic, post_id: str | None) -> Post | None:
    """A post of this topic the reader may see, named by a form or query value; 404 otherwise."""
    if not post_id:
        return None
    found = visible_post_or_404(post_id)
    if found.topic_id != topic.id:
        abort(404)
    return found


@bp.route("/t/<int:topic_id>/reply", methods=["GET", "POST"])
def reply(topic_id: int):
    found = _topic_or_404(topic_id)
    refused = refusal_of_sent_form("reply", found)
    form = ReplyForm()
    parent = _post_in_topic(found, form.parent_id.data or request.args.get("to"))
    if parent is not None:
        form.parent_id.data = str(parent.id)
    if request.method == "GET" and request.args.get("quote"):
        source = _post_in_topic(found, request.args.get("quote"))
        quoted = posting.reply_quoting(current_user, source) if source is not None else ""
        if quoted:
            form.body.data = quoted
    preview = None
    valid = request.method == "POST" and all([form.validate(), take_uploads(form)])
    if request.method == "POST" and "preview" in request.form:
        # A body the form refuses (too long, too much markup) is not rendered (issue 13).
        preview = None if form.body.errors else posting.preview_body(current_user, form.body.data)
    elif valid and not refused:
        post = posting.post_reply(
            current_user,
            found,
            body=form.body.data,
            parent=parent,
            attachment_keys=posted_keys(form),
            form_token=form.sent_token,
        )
        flash(_("Your reply is posted."), "success")
        return redirect(post_url(post))
    status = STALE_FORM if refused else 400 if form.errors else 200
    return render_template(
        "reply.html", topic=found, parent=parent, form=form, preview=preview, refused=refused
    ), status


@bp.route("/p/<int:post_id>")
def post(post_id: int):
    """A permalink: finds the page of the topic that shows the post, however long the topic."""
    return redirect(post_url(_post_or_404(post_id)))


@bp.route("/@<handle>")
def mention(handle: str):
    # A private profile's handle answers visitors as an unknown one does (issue 11, item 8).
    member = accounts.find_user_by_handle(handle)
    if member is None or not can(current_user, "view_profile", member):
        abort(404)
    return redirect(url_for("accounts.profile", user_id=member.id))


@bp.route("/p/<int:post_id>/vote", methods=["POST"])
def vote(post_id: int):
    found = _post_or_404(post_id)
    voted = votes.set_vote(current_user, found, up=request.form.get("up") != "0")
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"voted": voted, "count": reading.get_post(post_id).vote_count})
    return redirect(post_url(found))


@bp.route("/p/<int:post_id>/accept", methods=["POST"])
def accept(post_id: int):
    found = _post_or_404(post_id)
    votes.accept_answer(current_user, found)
    flash(_("Marked as the accepted answer."), "success")
    return redirect(post_url(found))


@bp.route("/p/<int:post_id>/unaccept", methods=["POST"])
def unaccept(post_id: int):
    found = _post_or_404(post_id)
    votes.unaccept_answer(current_user, found)
    flash(_("The answer is no longer marked as accepted."), "info")
    return redirect(post_url(found))


# --- Editing ----------------------------------------------------------------------------


@bp.route("/p/<int:post_id>/edit", methods=["GET", "POST"])
def edit_post(post_id: int):
    found = _post_or_404(post_id)
    refused = refusal_of_sent_form("edit_post", found)
    form_class = EditOpeningPostForm if found.is_opening_post else EditPostForm
    form = form_class(data={"body": found.body, "title": found.topic.title})
    preview = None
    held = len(found.attachments)
    valid = request.method == "POST" and all([form.validate(), take_uploads(form, held=held)])
    if request.method == "POST" and "preview" in request.form:
        # A body the form refuses (too long, too much markup) is not rendered (issue 13).
        preview = None if form.body.errors else posting.preview_body(current_user, form.body.data)
    elif valid and not refused:
        posting.edit_post(
            current_user,
            found,
            body=form.body.data,
            title=form.title.data if found.is_opening_post else None,
            attachment_keys=posted_keys(form),
        )
        flash(_("Your changes are saved."), "success")
        return redirect(post_url(found))
    status = STALE_FORM if refused else 400 if form.errors else 200
    return render_template(
        "edit_post.html", post=found, form=form, preview=preview, refused=refused
    ), status


@bp.route("/p/<int:post_id>/delete", methods=["POST"])
def delete_post(post_id: int):
    found = _post_or_404(post_id)
    posting.delete_post(current_user, found)
    flash(_("The post is deleted."), "info")
    return redirect(post_url(found))


@bp.route("/p/<int:post_id>/history")
def post_history(post_id: int):
    found = _post_or_404(post_id)
    require(current_user, "view_revisions", found)
    return render_template("post_history.html", post=found, revisions=reading.post_revisions(found))
