"""Error pages (400, 403, 404, 429, 500) and turning refused permissions into them."""

from __future__ import annotations

from flask import Flask, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import Forbidden

from forum.extensions import db
from forum.input_checks import ControlCharactersRefused
from forum.permissions import PermissionDenied
from forum.rate_limits import retry_after
from forum.services.form_tokens import AlreadySent

API_PREFIX = "/api/v1/"


def is_api_request() -> bool:
    """A request to the read API (issue 16), whose errors are JSON like its answers."""
    return request.path.startswith(API_PREFIX)


def api_error(status: int, code: str, message: str, **extra):
    """The read API's error: ``{"error": {"code": ..., "message": ...}}`` (openapi.json's Error)."""
    response = jsonify({"error": {"code": code, "message": str(message), **extra}})
    response.status_code = status
    return response


def _page(status: int, title: str, message: str):
    return render_template("error.html", status=status, title=title, message=message), status


def _made_by(submission) -> str:
    """The address of what the first sending of a form made (its page checks who may see it)."""
    if submission.target_kind == "topic":
        return url_for("discussions.topic", topic_id=submission.target_id)
    if submission.target_kind in ("post", "flag"):
        return url_for("discussions.post", post_id=submission.target_id)
    if submission.target_kind == "paper":  # issue 18
        return url_for("papers.paper", paper_id=submission.target_id)
    if submission.target_kind == "guideline":
        return url_for("guidelines.document", guideline_id=submission.target_id)
    return url_for("discussions.home")


def init_app(app: Flask) -> None:
    @app.errorhandler(AlreadySent)
    def already_sent(error: AlreadySent):
        # The Back button, a second tab or a double click sent a create form again (issue 17).
        db.session.rollback()
        kind = error.submission.target_kind
        flash(
            _("You flagged this post already.")
            if kind == "flag"
            else _("This was already posted: here it is. Nothing was posted twice."),
            "info",
        )
        return redirect(_made_by(error.submission))

    @app.errorhandler(PermissionDenied)
    def permission_denied(error: PermissionDenied):
        if error.decision.not_found:  # the reader may not know it exists: as for a missing id
            return not_found(None)
        if is_api_request():
            return api_error(403, "forbidden", error.decision.reason)
        if error.decision.needs_login:
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        return _page(403, _("Not allowed"), error.decision.reason)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        if request.path.startswith("/api/"):  # the composer's scripts read JSON
            message = _("Your form expired: reload the page (your draft is kept) and try again.")
            return jsonify({"error": message}), 400
        return _page(
            400,
            _("Your form expired"),
            _("The page was open too long or came from elsewhere. Reload it and try again."),
        )

    @app.errorhandler(ControlCharactersRefused)
    def control_characters(error: ControlCharactersRefused):
        message = _(
            "The address or the form holds a control character (such as NUL) that cannot be "
            "typed. Remove it and try again."
        )
        if is_api_request():
            return api_error(400, "bad_request", message)
        if request.path.startswith("/api/"):  # the composer's scripts read JSON
            return jsonify({"error": message}), 400
        return _page(400, _("Unreadable characters"), message)

    @app.errorhandler(400)
    def bad_request(error):
        if is_api_request():
            return api_error(400, "bad_request", _("The request could not be understood."))
        return _page(400, _("Bad request"), _("The request could not be understood."))

    @app.errorhandler(403)
    def forbidden(error):
        if is_api_request():
            return api_error(403, "forbidden", _("You may not do that."))
        # Werkzeug's own English description is replaced by ours, which is translated.
        custom = error.description != Forbidden.description
        return _page(
            403, _("Not allowed"), error.description if custom else _("You may not do that.")
        )

    @app.errorhandler(404)
    def not_found(error):
        if is_api_request():
            return api_error(404, "not_found", _("There is nothing at this address."))
        return _page(
            404, _("Page not found"), _("There is nothing at this address. It may have moved.")
        )

    @app.errorhandler(429)
    def too_many(error):
        seconds = retry_after()
        minutes = round(seconds / 60)
        if minutes <= 1:
            message = _("You have done this too often. Try again in a minute.")
        else:
            message = ngettext(
                "You have done this too often. Try again in %(num)d minute.",
                "You have done this too often. Try again in %(num)d minutes.",
                minutes,
            )
        if is_api_request():
            response = api_error(429, "rate_limited", message, retry_after=seconds)
        elif (
            request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"
        ):
            response = jsonify({"error": message, "retry_after": seconds})
            response.status_code = 429
        else:
            response, _status = _page(429, _("Slow down"), message)
            response = app.make_response((response, 429))
        response.headers["Retry-After"] = str(seconds)
        return response

    @app.errorhandler(413)
    def too_large(error):
        # Files larger than the composer takes (forum.views.attachments sets the bound per form):
        # the body was never read, so say what the limit is; the typed text is kept as the
        # browser's draft (static/forum.js) for when the member goes back.
        from forum.templating import file_size  # the reader's units; templating imports services

        config = app.config
        message = _(
            "What you sent is larger than the forum accepts: at most %(size)s a file, "
            "%(files)s. Your text is kept as a draft in this browser: go back to the form "
            "and attach smaller or fewer files.",
            size=file_size(config["FORUM_ATTACHMENT_MAX_BYTES"]),
            files=ngettext(
                "%(num)d file a post", "%(num)d files a post", config["FORUM_ATTACHMENTS_PER_POST"]
            ),
        )
        if is_api_request():
            return api_error(413, "too_large", message)
        if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
            response = jsonify({"error": message})
            response.status_code = 413
            return response
        return _page(413, _("Too large"), message)

    @app.errorhandler(405)
    def method_not_allowed(error):
        if is_api_request():  # the read API only reads
            response = api_error(405, "method_not_allowed", _("The read API answers GET only."))
            response.headers["Allow"] = ", ".join(error.valid_methods or ("GET",))
            return response
        return error

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        if is_api_request():
            return api_error(
                500, "server_error", _("The error was logged. Please try again later.")
            )
        return _page(
            500, _("Something went wrong"), _("The error was logged. Please try again later.")
        )
