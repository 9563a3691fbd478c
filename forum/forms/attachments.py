"""The composer's file field, and a member's avatar."""

from flask import current_app
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import HiddenField

# What the file chooser offers; the server still decides the type from the content.
ACCEPTED = "image/png,image/jpeg,image/webp,image/gif,application/pdf,text/csv,text/plain,.csv,.txt"


def megabytes(size: int) -> str:
    """A size in MB, written the reader's way (10 MB, ١٠ MB in Arabic)."""
    return format_decimal(round(size / 1_000_000, 1))


def _limits() -> str:
    config = current_app.config
    return str(
        _l(
            "Images (PNG, JPEG, WebP, GIF), PDF, CSV or plain text, up to %(size)s MB each and "
            "%(count)d files a post. You can also drop or paste files into the text.",
            size=megabytes(config["FORUM_ATTACHMENT_MAX_BYTES"]),
            count=config["FORUM_ATTACHMENTS_PER_POST"],
        )
    )


class AttachmentsForm(FlaskForm):
    """Composer forms (new topic, reply, edit) carry files chosen, and the keys of those already
    uploaded (dropped or pasted, or chosen on an earlier try of the same form)."""

    files = MultipleFileField(_l("Attach files"), description=LazyString(_limits))
    attachment_keys = HiddenField()
    # Filled by the view (forum.views.attachments.take_uploads): the uploads waiting for this post.
    waiting_attachments: list = []


class AvatarForm(FlaskForm):
    avatar = FileField(
        _l("Your picture"),
        description=_l(
            "A photo or image (PNG, JPEG, WebP, GIF); the middle square of it is shown. "
            "Without one, your initials are."
        ),
    )
