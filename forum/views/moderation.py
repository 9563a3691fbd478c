"""Flagging, the moderation queue, post and topic tools, suspensions and the public log."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from forum.models import FlagReason, Post, Topic
from forum.permissions import can, require
from forum.services import audit, moderation, posting, reading, topic_areas, topic_curation
from forum.views import id_arg, page_arg, visible_post_or_404, visible_topic_or_404
from forum.views.discussions import post_url

bp = Blueprint("moderation", __name__)


def _post(post_id: int) -> Post:
    return visible_post_or_404(post_id)


def _topic(topic_id: int) -> Topic:
    return visible_topic_or_404(topic_id)


def _text(name: str) -> str:
    return request.form.get(name, "").strip()


def _back(post: Post | None = None):
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(post_url(post) if post else url_for("moderation.queue"))


# --- Flags and the queue --------------------------------------------------------------------


@bp.route("/p/<int:post_id>/flag", methods=["POST"])
def flag(post_id: int):
    post = _post(post_id)
    reason = request.form.get("reason", "")
    if reason not in {r.value for r in FlagReason}:
        flash(_("Choose why you are flagging the post."), "error")
        return redirect(post_url(post))
    if reason == FlagReason.OTHER and not _text("note"):
        flash(_("Say what is wrong with the post."), "error")
        return redirect(post_url(post))
    try:
        hidden = moderation.flag_post(
            current_user, post, reason=FlagReason(reason), note=_text("note")
        )
    except moderation.ModerationError as error:
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


@bp.route("/moderation/posts/<int:post_id>/<action>", methods=["POST"])
def post_action(post_id: int, action: str):
    post = _post(post_id)
    require(current_user, "moderate_post", post)
    try:
        if action == "dismiss":
            moderation.dismiss_flags(current_user, post)
        elif action == "hide":
            if not _text("reason"):
                raise moderation.ModerationError(_("Give the reason readers will see."))
            moderation.hide_post(current_user, post, reason=_text("reason"))
        elif action == "restore":
            moderation.restore_post(current_user, post)
        elif action == "delete":
            posting.delete_post(current_user, post)
        elif action == "approve":
            moderation.approve_post(current_user, post)
        elif action == "warn":
            if not _text("message"):
                raise moderation.ModerationError(_("Write the warning."))
            moderation.warn_author(current_user, post, message=_text("message"))
        elif action == "suspend":
            until = _parse_date(_text("until"))
            if until is None or not _text("reason"):
                raise moderation.ModerationError(_("Give an end date and a reason."))
            moderation.suspend_member(
                current_user, post.author, until=until, reason=_text("reason")
            )
        else:
            abort(404)
    except moderation.ModerationError as error:
        flash(str(error), "error")
    else:
        flash(_("Done."), "success")
    return _back()


def _parse_date(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(current_user.timezone))


# --- Topic tools -----------------------------------------------------------------------------


@bp.route("/t/<int:topic_id>/moderate")
def topic_tools(topic_id: int):
    topic = _topic(topic_id)
    require(current_user, "moderate_topic", topic)
    return render_template(
        "moderation/topic_tools.html",
        topic=topic,
        categories=topic_areas.list_categories(viewer=current_user),
        posts=reading.thread_outline(topic),
    )


@bp.route("/t/<int:topic_id>/moderate/<action>", methods=["POST"])
def topic_action(topic_id: int, action: str):
    topic = _topic(topic_id)
    require(current_user, "moderate_topic", topic)
    target = topic
    try:
        if action == "pin":
            topic_curation.pin_topic(current_user, topic, globally=_text("scope") == "forum")
        elif action == "unpin":
            topic_curation.unpin_topic(current_user, topic)
        elif action == "lock":
            topic_curation.lock_topic(current_user, topic, note=_text("note"))
        elif action == "unlock":
            topic_curation.unlock_topic(current_user, topic)
        elif action == "move":
            area = topic_areas.get_category(_text("category"))
            if area is None:
                raise moderation.ModerationError(_("Choose an area."))
            topic_curation.move_topic(current_user, topic, area)
        elif action == "feature":
            if not _text("summary"):
                raise moderation.ModerationError(_("Write the short summary shown with it."))
            topic_curation.feature_topic(current_user, topic, summary=_text("summary"))
        elif action == "unfeature":
            topic_curation.unfeature_topic(current_user, topic)
        elif action in {"duplicate", "merge"}:
            other_id = id_arg(_text("topic_id"))
            other = reading.get_topic(other_id) if other_id is not None else None
            # A merged-away topic is named so that the service can say where it went.
            named = other is not None and (
                other.merged_into_id is not None or can(current_user, "view_topic", other)
            )
            if not named:
                raise moderation.ModerationError(_("Give the number of an existing topic."))
            if action == "duplicate":
                topic_curation.close_as_duplicate(current_user, topic, other, note=_text("note"))
            else:
                from forum.services import topic_surgery

                target = topic_surgery.merge_topics(
                    current_user, topic, other, reason=_text("note")
                )
        elif action == "split":
            from forum.services import topic_surgery

            ids = [i for i in map(id_arg, request.form.getlist("post_ids")) if i is not None]
            target = topic_surgery.split_topic(current_user, topic, ids, title=_text("title"),
                                               reason=_text("note"))  # fmt: skip
        else:
            abort(404)
    except (moderation.ModerationError, ValueError) as error:
        flash(str(error), "error")
        return redirect(url_for("moderation.topic_tools", topic_id=topic.id))
    flash(_("Done."), "success")
    return redirect(url_for("discussions.topic", topic_id=target.id, slug=target.slug, page=1))


# --- The public log --------------------------------------------------------------------------


@bp.route("/moderation/log")
def log():
    require(current_user, "view_moderation_log")
    page = audit.public_log(current_user, page=page_arg())
    return render_template("moderation/log.html", log=page)
