"""How the browser gets the forum's files: static files under fingerprinted names, cached for a
year, and responses compressed where that is safe.

Fingerprints: ``url_for("static", filename="forum.css")`` gives ``/static/forum.<digest>.css``,
the digest being the first 12 hex digits of the file's SHA-256. A changed file gets a new name, so
the old one may be cached for a year (``immutable``). A name with an old digest (a page cached
before a deploy) still answers, with the current file and no long caching; an unfingerprinted
name answers as Flask would, cached for an hour.

Compression (Flask-Compress: zstd, brotli, gzip): static files, JSON, CSV and the pages a
visitor reads. A logged-in member's HTML pages stay uncompressed: they carry a CSRF token and
can reflect what was typed (a search), which is what the BREACH attack needs to read the token
from compressed sizes.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from flask import Flask, Response, current_app, request, send_from_directory
from flask_compress import Compress
from flask_login import current_user
from werkzeug.exceptions import NotFound

YEAR = 365 * 24 * 3600
HOUR = 3600
_FINGERPRINTED = re.compile(r"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{12})(?P<suffix>\.[A-Za-z0-9]+)$")

COMPRESSED_TYPES = [
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/x-ndjson",
    "text/csv",
    "text/plain",
    "image/svg+xml",
]

compress = Compress()


def _digests(app: Flask) -> dict[str, str]:
    """File name (relative to the static folder) -> digest, read once per process (on each
    request in debug mode, so an edited file is picked up)."""
    cached = app.extensions.get("forum_static_digests")
    if cached is not None and not app.debug:
        return cached
    folder = Path(app.static_folder)
    digests = {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
    app.extensions["forum_static_digests"] = digests
    return digests


def fingerprinted(filename: str) -> str:
    """The name the page links to: ``forum.css`` -> ``forum.<digest>.css`` (unchanged for a file
    that does not exist, so Flask answers 404 as usual)."""
    digest = _digests(current_app).get(filename)
    if digest is None:
        return filename
    stem, dot, suffix = filename.rpartition(".")
    return f"{stem}.{digest}.{suffix}" if dot else f"{filename}.{digest}"


def serve_static(filename: str) -> Response:
    """The static route: a fingerprinted name is cached for a year, anything else for an hour."""
    app = current_app
    digests = _digests(app)
    match = _FINGERPRINTED.match(filename)
    if match:
        real = f"{match['stem']}{match['suffix']}"
        if real in digests:
            current = digests[real] == match["digest"]
            response = send_from_directory(app.static_folder, real, max_age=YEAR if current else 0)
            if current:
                response.cache_control.immutable = True
                response.cache_control.public = True
            return _in_memory(response)
    if filename not in digests:
        raise NotFound()
    return _in_memory(send_from_directory(app.static_folder, filename, max_age=HOUR))


def _in_memory(response: Response) -> Response:
    """Read the (small) file into the response, closing it, so it is compressed whole."""
    response.direct_passthrough = False
    response.make_sequence()
    return response


def _compress_when_safe(response: Response) -> Response:
    member_page = request.endpoint != "static" and response.mimetype == "text/html"
    if member_page and current_user.is_authenticated:
        return response  # see the module's note on BREACH
    return compress.after_request(response)


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS_REGISTER", False)  # _compress_when_safe decides
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    compress.init_app(app)
    app.view_functions["static"] = serve_static

    @app.url_defaults
    def _fingerprint(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values:
            values["filename"] = fingerprinted(values["filename"])

    app.after_request(_compress_when_safe)
