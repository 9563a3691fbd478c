"""Files: uploads from the composer (chosen in the form, or dropped and pasted: JSON), serving
attachments to those who may read their post, and members' avatars."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.forms.accounts import ProfileForm
from forum.forms.attachments import AttachmentsForm, AvatarForm, megabytes
from forum.models import Attachment
from forum.permissions import can, require
from forum.services import attachments, avatars
from forum.storage import StoredFileMissing
from forum.uploads import Refusal

bp = Blueprint("attachments", __name__)

# The forms that take files: their requests may be as large as the files they may carry.
COMPOSER_ENDPOINTS = frozenset(
    {"discussions.new_topic", "discussions.reply", "discussions.edit_post"}
)
ONE_FILE_ENDPOINTS = frozenset({"attachments.upload", "attachments.set_avatar"})
FORM_FIELDS_BYTES = 1024 * 1024  # the text fields beside the files
# A served file is the file alone: no script runs in it, no type is guessed for it.
FILE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "X-Content-Type-Options": "nosniff",
}


def refusal_message(refusal: Refusal) -> str:
    max_mb = megabytes(current_app.config["FORUM_ATTACHMENT_MAX_BYTES"])
    match refusal:
        case Refusal.EMPTY:
            return _("The file is empty.")
        case Refusal.TOO_LARGE:
            return _("The file is larger than %(size)s MB.", size=max_mb)
        case Refusal.MARKUP:
            return _("SVG and HTML files cannot be attached (they can hold scripts).")
        case Refusal.BROKEN_IMAGE:
            return _("The image is damaged or incomplete.")
        case Refusal.TOO_MANY_PIXELS:
            return _("The image has too many pixels (at most 40 million).")
        case Refusal.NOT_AN_IMAGE:
            return _("Choose a PNG, JPEG, WebP or GIF image.")
        case Refusal.TOO_MANY:
            return _(
                "A post may hold at most %(count)d files.",
                count=current_app.config["FORUM_ATTACHMENTS_PER_POST"],
            )
    return _(
        "This kind of file cannot be attached: images (PNG, JPEG, WebP, GIF), PDF, CSV and "
        "plain text can."
    )


def _sent_files(storages) -> list[attachments.FileSent]:
    limit = current_app.config["FORUM_ATTACHMENT_MAX_BYTES"] + 1  # one byte more: too large
    return [
        attachments.FileSent(data=f.read(limit), filename=f.filename)
        for f in storages
        if f is not None and f.filename
    ]


def take_uploads(form: AttachmentsForm, *, held: int = 0) -> bool:
    """Keep the files a composer form carries (after form.validate(), which clears errors):
    each refused one is named at the field with why, each kept one joins the form's waiting
    uploads, so that a form shown again holds them and nothing sent is lost. False when a file
    was refused. ``held``: the files the post being edited holds already."""
    keys = (form.attachment_keys.data or "").split()
    sent = _sent_files(request.files.getlist(form.files.name))
    if sent:
        held += len(attachments.waiting(current_user, keys))
        result = attachments.upload_files(current_user, sent, already=held)
        keys += [a.key for a in result.accepted]
        form.files.errors = list(form.files.errors) + [
            f"{name or _('A file')}: {refusal_message(why)}" for name, why in result.refused
        ]
    form.waiting_attachments = attachments.waiting(current_user, keys)
    form.attachment_keys.data = " ".join(a.key for a in form.waiting_attachments)
    return not form.files.errors


def posted_keys(form: AttachmentsForm) -> list[str]:
    return [a.key for a in form.waiting_attachments]


def markdown_reference(attachment: Attachment) -> str:
    """What the composer inserts for a dropped or pasted file: an image or a link."""
    address = url_for("attachments.show", key=attachment.key)
    name = attachment.filename.replace("[", "(").replace("]", ")")
    return f"![{name}]({address})" if attachment.is_image else f"[{name}]({address})"


@bp.route("/attachments", methods=["POST"])
def upload():
    """One file dropped or pasted into the composer (JSON; CSRF token in the header)."""
    require(current_user, "upload_attachment")
    sent = _sent_files(request.files.getlist("file"))[:1]
    if not sent:
        return jsonify({"error": refusal_message(Refusal.EMPTY)}), 400
    result = attachments.upload_files(current_user, sent)
    if result.refused:
        name, why = result.refused[0]
        return jsonify({"error": f"{name}: {refusal_message(why)}"}), 400
    attachment = result.accepted[0]
    return jsonify(
        {
            "key": attachment.key,
            "name": attachment.filename,
            "size": attachment.size,
            "markdown": markdown_reference(attachment),
        }
    ), 201


def content_disposition(disposition: str, filename: str) -> str:
    """The header naming a file: an ASCII name for old clients and, for any other, the UTF-8
    name too (RFC 6266 and RFC 5987). Names were cleaned when uploaded (forum.uploads)."""
    plain = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    plain = "".join(c for c in plain if c.isprintable() and c not in '"\\;') or "attachment"
    value = f'{disposition}; filename="{plain}"'
    if plain != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value


def _file_response(chunks, *, mimetype: str, disposition: str, filename: str, cache: str):
    response = current_app.response_class(chunks, mimetype=mimetype, direct_passthrough=True)
    response.headers.update(FILE_HEADERS)
    response.headers["Content-Disposition"] = content_disposition(disposition, filename)
    response.headers["Cache-Control"] = cache
    return response


def _serve(key: str, *, original: bool):
    found = attachments.get_attachment(key)
    if found is None or not can(current_user, "view_attachment", found):
        abort(404)
    try:
        chunks = attachments.read_file(found, original=original)
    except StoredFileMissing:
        abort(404)
    return _file_response(
        chunks,
        mimetype=found.content_type,
        disposition="inline" if found.is_image else "attachment",
        filename=found.filename,
        cache="private, max-age=3600",  # the reader's own cache only: who may read a post changes
    )


@bp.route("/a/<key>")
def show(key: str):
    """An attachment: an image as the page shows it, any other file as a download."""
    return _serve(key, original=False)


@bp.route("/a/<key>/original")
def original(key: str):
    """An image at its full size (re-encoded, without its metadata)."""
    return _serve(key, original=True)


# --- Avatars -----------------------------------------------------------------------------------


@bp.route("/avatars/<key>")
def avatar(key: str):
    chunks = avatars.read_avatar(key)
    if chunks is None:
        abort(404)
    # A new picture gets a new key, so a kept copy of this one is never stale.
    return _file_response(
        chunks,
        mimetype="image/webp",
        disposition="inline",
        filename="avatar.webp",
        cache="public, max-age=86400",
    )


def _profile_page_with(avatar_form: AvatarForm):
    """The profile settings page again, the picture's error at its field."""
    form = ProfileForm(obj=current_user, formdata=None)
    return render_template("accounts/edit_profile.html", form=form, avatar_form=avatar_form), 400


@bp.route("/settings/avatar", methods=["POST"])
@login_required
def set_avatar():
    form = AvatarForm()
    if form.validate_on_submit():
        sent = _sent_files([form.avatar.data])
        if not sent:
            form.avatar.errors.append(_("Choose a picture to upload."))
        else:
            refusal = avatars.set_avatar(current_user, current_user, data=sent[0].data)
            if refusal is None:
                flash(_("Your picture is saved."), "success")
                return redirect(url_for("accounts.edit_profile"))
            form.avatar.errors.append(refusal_message(refusal))
    return _profile_page_with(form)


@bp.route("/settings/avatar/remove", methods=["POST"])
@login_required
def remove_avatar():
    form = AvatarForm()
    if form.validate_on_submit():
        avatars.remove_avatar(current_user, current_user)
        flash(_("Your picture is removed: your initials are shown instead."), "info")
    return redirect(url_for("accounts.edit_profile"))


def _allow_file_sized_requests() -> None:
    """The forms that take files accept requests as large as their files (the app's
    MAX_CONTENT_LENGTH, 2 MB, holds everywhere else). Runs before CSRF reads the form."""
    config = current_app.config
    if request.endpoint in COMPOSER_ENDPOINTS:
        files = config["FORUM_ATTACHMENTS_PER_POST"]
    elif request.endpoint in ONE_FILE_ENDPOINTS:
        files = 1
    else:
        return
    request.max_content_length = config["FORUM_ATTACHMENT_MAX_BYTES"] * files + FORM_FIELDS_BYTES


def init_app(app: Flask) -> None:
    app.before_request(_allow_file_sized_requests)
