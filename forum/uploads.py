"""What an uploaded file is, judged from its bytes alone, and what the forum keeps of it.

No Flask, no database: the attachment and avatar services call ``read_upload`` and
``make_avatar``. The type is decided from the content (magic bytes, Pillow, the PDF header,
UTF-8 text without NUL), never from the name or the browser's Content-Type. SVG and HTML are
refused: they carry scripts. Images are decoded and re-encoded by Pillow, which leaves their
EXIF, GPS, XMP and comments behind (a privacy community: a phone photo says where it was taken),
after turning them upright by their EXIF orientation. Before any decoding, the dimensions in
the header are checked, so a small file that would expand to gigabytes (a decompression bomb)
is refused without being decoded.
"""

from __future__ import annotations

import csv
import enum
import io
import re
import unicodedata
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

# Below Pillow's own bomb limit (89 Mpx a warning, twice that an error): ours speaks first.
MAX_IMAGE_PIXELS = 40_000_000  # 8000 x 5000
MAX_FRAMES = 100  # an animated GIF or WebP
MAX_ANIMATION_PIXELS = 100_000_000  # all frames together
DISPLAY_MAX_WIDTH_PX = 1600
AVATAR_SIZE_PX = 256
FILENAME_MAX_LENGTH = 100
JPEG_QUALITY = 85

IMAGE_TYPES = {  # Pillow's format name -> (content type, file extension)
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
}
FILE_TYPES = {"application/pdf": "pdf", "text/csv": "csv", "text/plain": "txt"}
# Kept from an image's own information: what it needs to look the same. Everything else
# (exif, xmp, comment, dpi, icc_profile...) is left behind.
_KEPT_INFO = ("transparency", "duration", "loop", "background")
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
)
_MARKUP_START = re.compile(rb"^\s*<(?:!doctype\s+html|html|svg|\?xml|head|body|script)\b", re.I)
# Characters a name may not hold: controls, direction overrides and other invisible formats
# (a name "gpj.exe" written right to left reads as "exe.jpg").
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"}


class Refusal(enum.Enum):
    """Why an upload is refused (the view words it, translated)."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"
    MARKUP = "markup"  # SVG or HTML
    UNKNOWN_TYPE = "unknown_type"
    BROKEN_IMAGE = "broken_image"
    TOO_MANY_PIXELS = "too_many_pixels"
    NOT_AN_IMAGE = "not_an_image"  # an avatar must be a picture
    TOO_MANY = "too_many"  # more files than one post may hold


class UploadRefused(ValueError):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


class UploadKind(enum.StrEnum):
    IMAGE = "image"
    FILE = "file"


@dataclass(frozen=True)
class Upload:
    """What is kept of an accepted upload."""

    kind: UploadKind
    content_type: str
    filename: str
    original: bytes  # the image re-encoded, or the file as sent
    display: bytes | None = None  # a smaller image for the page, when the original is wide
    width: int | None = None  # of the image the page shows
    height: int | None = None


def safe_filename(name: str | None, *, extension: str) -> str:
    """A name to show and to offer for saving: no folders, no invisible or direction
    characters, at most FILENAME_MAX_LENGTH characters, ending in the extension of the type the
    content was found to be (``report.exe`` holding text is ``report.exe.txt``)."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(
        " " if c.isspace() else c
        for c in name
        if unicodedata.category(c) not in _INVISIBLE_CATEGORIES or c.isspace()
    )
    name = " ".join(name.split()).strip(" .")
    stem, dot, suffix = name.rpartition(".")
    if dot and suffix.lower() in {extension, "jpeg" if extension == "jpg" else extension}:
        name = stem.strip(" .")
    name = name[: FILENAME_MAX_LENGTH - len(extension) - 1].strip(" .") or "attachment"
    return f"{name}.{extension}"


def _image_format(data: bytes) -> str | None:
    for magic, image_format in _MAGIC:
        if data.startswith(magic):
            return image_format
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _text_type(data: bytes) -> str | None:
    """text/csv or text/plain for UTF-8 text without NUL; None for anything else."""
    if b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    sample = text[:8192]
    lines = [line for line in sample.splitlines()[:20] if line.strip()]
    if len(lines) >= 2:
        try:
            dialect = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t")
        except csv.Error:
            return "text/plain"
        widths = {len(row) for row in csv.reader(lines, dialect)}
        if len(widths) == 1 and widths.pop() > 1:
            return "text/csv"
    return "text/plain"


def _open_image(data: bytes, expected: str) -> Image.Image:
    """The image, its size checked before anything is decoded."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[expected])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise UploadRefused(Refusal.TOO_MANY_PIXELS) from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            raise UploadRefused(Refusal.BROKEN_IMAGE) from None
    width, height = image.size
    frames = getattr(image, "n_frames", 1)
    if (
        width * height > MAX_IMAGE_PIXELS
        or frames > MAX_FRAMES
        or width * height * frames > MAX_ANIMATION_PIXELS
    ):
        raise UploadRefused(Refusal.TOO_MANY_PIXELS)
    return image


def _frames(image: Image.Image) -> list[Image.Image]:
    """Every frame decoded, upright, with none of the source's metadata."""
    try:
        frames = [ImageOps.exif_transpose(frame.copy()) for frame in ImageSequence.Iterator(image)]
    except (OSError, ValueError, SyntaxError, EOFError):  # truncated or corrupt data
        raise UploadRefused(Refusal.BROKEN_IMAGE) from None
    kept = {k: image.info[k] for k in _KEPT_INFO if k in image.info}
    for frame in frames:
        frame.info = dict(kept)
    return frames


def _encode(frames: list[Image.Image], image_format: str) -> bytes:
    out = io.BytesIO()
    first = frames[0]
    options: dict = {}
    if image_format == "JPEG":
        first = first.convert("RGB") if first.mode not in ("RGB", "L") else first
        options = {"quality": JPEG_QUALITY, "optimize": True}
    elif len(frames) > 1:
        options = {"save_all": True, "append_images": frames[1:]}
    first.save(out, format=image_format, **options)
    return out.getvalue()


def _image(data: bytes, image_format: str, filename: str | None) -> Upload:
    image = _open_image(data, image_format)
    frames = _frames(image)
    original = _encode(frames, image_format)
    width, height = frames[0].size
    display = None
    if width > DISPLAY_MAX_WIDTH_PX and len(frames) == 1:
        smaller = frames[0].copy()
        smaller.thumbnail((DISPLAY_MAX_WIDTH_PX, height), Image.Resampling.LANCZOS)
        display = _encode([smaller], image_format)
        width, height = smaller.size
    content_type, extension = IMAGE_TYPES[image_format]
    return Upload(
        kind=UploadKind.IMAGE,
        content_type=content_type,
        filename=safe_filename(filename, extension=extension),
        original=original,
        display=display,
        width=width,
        height=height,
    )


def read_upload(data: bytes, filename: str | None, *, max_bytes: int) -> Upload:
    """What the forum keeps of an uploaded file, or UploadRefused saying why not."""
    if not data:
        raise UploadRefused(Refusal.EMPTY)
    if len(data) > max_bytes:
        raise UploadRefused(Refusal.TOO_LARGE)
    if _MARKUP_START.match(data[:1024]):
        raise UploadRefused(Refusal.MARKUP)
    image_format = _image_format(data)
    if image_format is not None:
        return _image(data, image_format, filename)
    if data.startswith(b"%PDF-"):
        content_type = "application/pdf"
    else:
        content_type = _text_type(data)
        if content_type is None:
            raise UploadRefused(Refusal.UNKNOWN_TYPE)
    return Upload(
        kind=UploadKind.FILE,
        content_type=content_type,
        filename=safe_filename(filename, extension=FILE_TYPES[content_type]),
        original=data,
    )


def make_avatar(data: bytes, *, max_bytes: int) -> bytes:
    """A member's picture: the centre square of the image, AVATAR_SIZE_PX wide, as WebP."""
    if not data:
        raise UploadRefused(Refusal.EMPTY)
    if len(data) > max_bytes:
        raise UploadRefused(Refusal.TOO_LARGE)
    image_format = _image_format(data)
    if image_format is None:
        raise UploadRefused(
            Refusal.MARKUP if _MARKUP_START.match(data[:1024]) else Refusal.NOT_AN_IMAGE
        )
    frame = _frames(_open_image(data, image_format))[0]
    frame = frame.convert(
        "RGBA" if "A" in frame.getbands() or "transparency" in frame.info else "RGB"
    )
    square = ImageOps.fit(frame, (AVATAR_SIZE_PX, AVATAR_SIZE_PX), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    square.save(out, format="WEBP", quality=JPEG_QUALITY)
    return out.getvalue()
