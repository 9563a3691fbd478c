"""Flagging, the moderation queue, post and topic tools, suspensions and the public log."""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from forum.forms.moderation import (
    ApprovePostForm,
    CloseAsDuplicateForm,
    DeletePostForm,
    DismissFlagsForm,
    FeatureTopicForm,
    FlagForm,
    HidePostForm,
    LockTopicForm,
    MergeTopicForm,
    MoveTopicForm,
    PinTopicForm,
    RestorePostForm,
    SplitTopicForm,
    SuspendAuthorForm,
    UnfeatureTopicForm,
    UnlockTopicForm,
    UnpinTopicForm,
    WarnAuthorForm,
)
from forum.models import FlagReason, Post, Topic
from forum.permissions import can, require
from forum.services import (
    audit_log,
    moderation,
    posting,
    reading,
    topic_areas,
    topic_curation,
    topic_surgery,
)
from forum.services.moderation import ModerationError
from forum.views import (
    STALE_FORM,
    first_error,
    id_arg,
    page_arg,
    refusal_of_sent_form,
    safe_next,
    visible_post_or_404,
    visible_topic_or_404,
)
from forum.views.discussions import FlagAttempt, post_url, render_topic

bp = Blueprint("moderation", __name__)


# --- Flags and the queue --------------------------------------------------------------------


@bp.route("/p/<int:post_id>/flag", methods=["POST"])
def flag(post_id: int):
    post = visible_post_or_404(post_id)
    form = FlagForm()
    refused = refusal_of_sent_form("flag_post", post)  # e.g. deleted while the box was open
    valid = form.validate_on_submit()  # a flag sent twice has led to the first one already
    if refused:  # no box to show again (the post deleted, the member suspended): the reason
        flash(refused, "error")
        return render_topic(post.topic, page=reading.page_of_post(post)), STALE_FORM
    if not valid:
        # The topic page again, the box open at the post with the error by the field and the
        # reason chosen kept (the form's action ends in #flag-<id>, so the browser goes there).
        page = reading.page_of_post(post)
        return render_topic(post.topic, page=page, flag=FlagAttempt(post.id, form)), 400
    try:
        hidden = moderation.flag_post(
            current_user,
            post,
            reason=FlagReason(form.reason.data),
            note=form.note.data,
            form_token=form.sent_token,
        )
    except ModerationError as error:
        flash(str(error), "info")
    else:
        thanks = (
            _("Thank you: the post is hidden until a moderator reviews it.")
            if hidden
            else _("Thank you: moderators will look at it.")
        )
        flash(thanks, "success")
    return redirect(post_url(post))


@bp.route("/moderation")
def queue():
    entries, waiting = moderation.queue(current_user)
    return render_template("moderation/queue.html", entries=entries, waiting=waiting)


# --- Post tools: each goes back to the page it was used on (the queue unless it says) --------


def _moderated_post(post_id: int) -> Post:
    post = visible_post_or_404(post_id)
    require(current_user, "moderate_post", post)
    return post


def _act_on_post(form: FlaskForm, change: Callable[[], object]):
    """Run one post tool once its form is complete, then go back with how it went."""
    if not form.validate_on_submit():
        flash(first_error(form), "error")
    else:
        try:
            change()
        except ModerationError as error:
            flash(str(error), "error")
        else:
            flash(_("Done."), "success")
    return redirect(safe_next(form.next.data, url_for("moderation.queue")))


@bp.route("/moderation/posts/<int:post_id>/dismiss", methods=["POST"])
def dismiss_flags(post_id: int):
    post = _moderated_post(post_id)
    return _act_on_post(DismissFlagsForm(), lambda: moderation.dismiss_flags(current_user, post))


@bp.route("/moderation/posts/<int:post_id>/hide", methods=["POST"])
def hide_post(post_id: int):
    post = _moderated_post(post_id)
    form = HidePostForm()
    return _act_on_post(
        form, lambda: moderation.hide_post(current_user, post, reason=form.reason.data)
    )


@bp.route("/moderation/posts/<int:post_id>/restore", methods=["POST"])
def restore_post(post_id: int):
    post = _moderated_post(post_id)
    return _act_on_post(RestorePostForm(), lambda: moderation.restore_post(current_user, post))


@bp.route("/moderation/posts/<int:post_id>/delete", methods=["POST"])
def delete_post(post_id: int):
    post = _moderated_post(post_id)
    return _act_on_post(DeletePostForm(), lambda: posting.delete_post(current_user, post))


@bp.route("/moderation/posts/<int:post_id>/approve", methods=["POST"])
def approve_post(post_id: int):
    post = _moderated_post(post_id)
    return _act_on_post(ApprovePostForm(), lambda: moderation.approve_post(current_user, post))


@bp.route("/moderation/posts/<int:post_id>/warn", methods=["POST"])
def warn_author(post_id: int):
    post = _moderated_post(post_id)
    form = WarnAuthorForm()
    return _act_on_post(
        form, lambda: moderation.warn_author(current_user, post, message=form.message.data)
    )


@bp.route("/moderation/posts/<int:post_id>/suspend", methods=["POST"])
def suspend_author(post_id: int):
    post = _moderated_post(post_id)
    form = SuspendAuthorForm()
    return _act_on_post(
        form,
        lambda: moderation.suspend_member(
            current_user,
            post.author,
            until=form.until_in(current_user.timezone),
            reason=form.reason.data,
        ),
    )


# --- Topic tools: back to the tools when it cannot be done, else to the topic ---------------


@bp.route("/t/<int:topic_id>/moderate")
def topic_tools(topic_id: int):
    return _tools_page(_moderated_topic(topic_id))


def _tools_page(topic: Topic, split_form: SplitTopicForm | None = None) -> str:
    """The topic tools; ``split_form``: a split refused for its title, shown again as typed."""
    return render_template(
        "moderation/topic_tools.html",
        topic=topic,
        categories=topic_areas.list_categories(viewer=current_user),
        posts=reading.thread_outline(topic),
        split_form=split_form,
    )


def _moderated_topic(topic_id: int) -> Topic:
    topic = visible_topic_or_404(topic_id)
    require(current_user, "moderate_topic", topic)
    return topic


def _act_on_topic(topic: Topic, form: FlaskForm, change: Callable[[], Topic | None]):
    """Run one topic tool once its form is complete; it may answer with the topic to show
    (the one merged into, the one split off)."""
    if form.validate_on_submit():
        try:
            shown = change() or topic
        except ModerationError as error:
            flash(str(error), "error")
        else:
            flash(_("Done."), "success")
            return redirect(
                url_for("discussions.topic", topic_id=shown.id, slug=shown.slug, page=1)
            )
    else:
        flash(first_error(form), "error")
    return redirect(url_for("moderation.topic_tools", topic_id=topic.id))


def _named_topic(number: str) -> Topic:
    """The other topic a tool names by its number. A merged-away topic is named too, so that
    the service can say where it went."""
    other_id = id_arg(number)
    other = reading.get_topic(other_id) if other_id is not None else None
    if other is None or (
        other.merged_into_id is None and not can(current_user, "view_topic", other)
    ):
        raise ModerationError(_("Give the number of an existing topic."))
    return other


@bp.route("/t/<int:topic_id>/moderate/pin", methods=["POST"])
def pin_topic(topic_id: int):
    topic = _moderated_topic(topic_id)
    form = PinTopicForm()
    return _act_on_topic(
        topic, form, lambda: topic_curation.pin_topic(current_user, topic, globally=form.globally)
    )


@bp.route("/t/<int:topic_id>/moderate/unpin", methods=["POST"])
def unpin_topic(topic_id: int):
    topic = _moderated_topic(topic_id)
    return _act_on_topic(
        topic, UnpinTopicForm(), lambda: topic_curation.unpin_topic(current_user, topic)
    )


@bp.route("/t/<int:topic_id>/moderate/lock", methods=["POST"])
def lock_topic(topic_id: int):
    topic = _moderated_topic(topic_id)
    form = LockTopicForm()
    return _act_on_topic(
        topic, form, lambda: topic_curation.lock_topic(current_user, topic, note=form.note.data)
    )


@bp.route("/t/<int:topic_id>/moderate/unlock", methods=["POST"])
def unlock_topic(topic_id: int):
    topic = _moderated_topic(topic_id)
    return _act_on_topic(
        topic, UnlockTopicForm(), lambda: topic_curation.unlock_topic(current_user, topic)
    )


@bp.route("/t/<int:topic_id>/moderate/move", methods=["POST"])
def move_topic(topic_id: int):
    topic = _moderated_topic(topic_id)
    form = MoveTopicForm()

    def move() -> None:
        area = topic_areas.get_category(form.category.data)
        if area is None:
            raise ModerationError(_("Choose an area."))
        topic_curation.move_topic(current_user, topic, area)

    return _act_on_topic(topic, form, move)


@bp.route("/t/<int:topic_id>/moderate/feature", methods=["POST"])
def feature_topic(topic_id: int):
    topic = _moderated_topic(topic_id)
    form = FeatureTopicForm()
    return _act_on_topic(
        topic,
        form,
        lambda: topic_curation.feature_topic(current_user, topic, summary=form.summary.data),
    )


@bp.route("/t/<int:topic_id>/moderate/unfeature", methods=["POST"])
def unfeature_topic(topic_id: int):
    topic = _moderated_topic(topic_id)
    return _act_on_topic(
        topic, UnfeatureTopicForm(), lambda: topic_curation.unfeature_topic(current_user, topic)
    )


@bp.route("/t/<int:topic_id>/moderate/duplicate", methods=["POST"])
def close_as_duplicate(topic_id: int):
    topic = _moderated_topic(topic_id)
    form = CloseAsDuplicateForm()
    return _act_on_topic(
        topic,
        form,
        lambda: topic_curation.close_as_duplicate(
            current_user, topic, _named_topic(form.topic_id.data), note=form.note.data
        ),
    )


@bp.route("/t/<int:topic_id>/moderate/merge", methods=["POST"])
def merge_topic(topic_id: int):
    topic = _moderated_topic(topic_id)
    form = MergeTopicForm()
    return _act_on_topic(
        topic,
        form,
        lambda: topic_surgery.merge_topics(
            current_user, topic, _named_topic(form.topic_id.data), reason=form.note.data
        ),
    )


@bp.route("/t/<int:topic_id>/moderate/split", methods=["POST"])
def split_topic(topic_id: int):
    topic = _moderated_topic(topic_id)
    form = SplitTopicForm()
    if form.is_submitted() and not form.validate() and form.title.errors:
        # A title forum/names.py refuses: said at the field, with the chosen replies kept.
        return _tools_page(topic, split_form=form), 400
    return _act_on_topic(
        topic,
        form,
        lambda: topic_surgery.split_topic(
            current_user,
            topic,
            [i for i in map(id_arg, form.post_ids.data or []) if i is not None],
            title=form.title.data,
            reason=form.note.data,
        ),
    )


# --- The public log --------------------------------------------------------------------------


@bp.route("/moderation/log")
def log():
    require(current_user, "view_moderation_log")
    page = audit_log.public_page(current_user, page=page_arg())
    return render_template("moderation/log.html", log=page)


@bp.route("/moderation/log.jsonl")
def log_download():
    """The whole log as JSON lines, for anyone to keep and check (flask verify-audit --file)."""
    require(current_user, "view_moderation_log")
    return Response(
        stream_with_context(audit_log.log_lines()),
        mimetype="application/jsonl",
        headers={"Content-Disposition": "attachment; filename=moderation-log.jsonl"},
    )
