"""Notifications, watching, email preferences, one-click unsubscribe and the digest preview."""

from __future__ import annotations

from itertools import groupby

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.extensions import csrf
from forum.forms.notifications import EmailPreferencesForm
from forum.models import NotificationKind, WatchLevel
from forum.permissions import require
from forum.services import notifications, topic_areas, workshops
from forum.services import unsubscribe as unsubscribe_links
from forum.services.digests import sending as digest_sending
from forum.views import visible_topic_or_404

bp = Blueprint("notifications", __name__)

# The fields of EmailPreferencesForm that are saved as they are onto the member.
PREFERENCE_FIELDS = (
    "email_immediate",
    "email_reminders",
    "digest_frequency",
    "digest_hour",
    "digest_weekday",
    "auto_watch",
)


@bp.route("/notifications")
@login_required
def index():
    items = notifications.notifications_for(current_user)  # newest first
    groups = [list(day) for _date, day in groupby(items, key=lambda n: n.created_at.date())]
    return render_template("notifications/index.html", groups=groups)


@bp.route("/notifications/<int:notification_id>")
@login_required
def open_one(notification_id: int):
    """Opening a notification marks it read (the one GET that changes state) and goes to it."""
    note = notifications.open_notification(current_user, notification_id) or abort(404)
    if note.post_id:
        return redirect(url_for("discussions.post", post_id=note.post_id))
    if note.topic_id:
        return redirect(url_for("discussions.topic", topic_id=note.topic_id))
    if note.kind is NotificationKind.ROUND_RESULT:
        return redirect(url_for("agenda.index"))
    if note.kind is NotificationKind.WORKSHOP_SEAT and (found := workshops.workshop_id_of(note)):
        return redirect(url_for("workshops.show", workshop_id=found))
    if note.kind is NotificationKind.SUGGESTION_DECIDED and (
        found := notifications.suggestion_notice(note)
    ):
        return redirect(url_for("guidelines.document", guideline_id=found[0]))
    return redirect(url_for("notifications.index"))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def read_all():
    notifications.mark_all_read(current_user)
    flash(_("All notifications are marked read."), "info")
    return redirect(url_for("notifications.index"))


def _watch(target_type: str, target_id: int, back: str):
    level = request.form.get("level", "")
    if level not in {w.value for w in WatchLevel}:
        abort(400)
    notifications.set_watch(current_user, target_type, target_id, WatchLevel(level))
    flash(_("Your notification level is saved."), "success")
    return redirect(back)


@bp.route("/t/<int:topic_id>/watch", methods=["POST"])
def watch_topic(topic_id: int):
    topic = visible_topic_or_404(topic_id)  # before asking to log in: an id tells nothing
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    return _watch("topic", topic.id, url_for("discussions.topic", topic_id=topic.id, page=1))


@bp.route("/c/<slug>/watch", methods=["POST"])
@login_required
def watch_category(slug: str):
    area = topic_areas.get_category(slug) or abort(404)
    require(current_user, "view_category", area)
    return _watch("category", area.id, url_for("discussions.category", slug=area.slug))


@bp.route("/settings/email", methods=["GET", "POST"])
@login_required
def preferences():
    form = EmailPreferencesForm(obj=current_user)
    if form.validate_on_submit():
        notifications.save_email_preferences(
            current_user, **{name: form[name].data for name in PREFERENCE_FIELDS}
        )
        flash(_("Your email preferences are saved."), "success")
        return redirect(url_for("notifications.preferences"))
    return render_template("notifications/preferences.html", form=form), (
        400 if form.errors else 200
    )


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058 one-click: a bare POST from the mail client, no cookies, no form
def unsubscribe(token: str):
    decoded = unsubscribe_links.read_unsubscribe_token(token)
    if decoded is None:
        return render_template("notifications/unsubscribe.html", state="invalid"), 400
    if request.method == "POST":
        unsubscribe_links.unsubscribe(token)
        return render_template("notifications/unsubscribe.html", state="done", scope=decoded[1])
    return render_template(
        "notifications/unsubscribe.html", state="confirm", scope=decoded[1], token=token
    )


@bp.route("/admin/digest/<int:user_id>")
def preview_digest(user_id: int):
    preview = digest_sending.preview_digest(current_user, user_id) or abort(404)
    return render_template(
        "notifications/preview.html",
        member=preview.member,
        content=preview.content,
        subject=preview.subject,
    )


# The email as mail clients get it, framed by the preview page. Emails style themselves inline,
# which the forum's own policy (style-src 'self') refuses, and a srcdoc frame inherits that
# policy: so the email is its own document, allowed inline styles and nothing else (no
# script, no fetch, no form), framed only by the forum and sandboxed by the frame.
EMAIL_PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)


@bp.route("/admin/digest/<int:user_id>/email")
def preview_digest_email(user_id: int):
    preview = digest_sending.preview_digest(current_user, user_id) or abort(404)
    response = make_response(preview.html)
    response.headers["Content-Security-Policy"] = EMAIL_PREVIEW_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "no-store"
    return response
