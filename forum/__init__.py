"""The forum: a member-led research community on LLM privacy, safety and security."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application: config, extensions, blueprints, CLI, error handlers."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from forum import config as settings

    app.config.from_mapping(settings.from_environment(app.instance_path))
    if config:
        app.config.from_mapping(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.load_or_create_secret_key(app.instance_path)

    from forum import assets, database, errors, i18n, input_checks, templating
    from forum.views import BoundedIntConverter

    # Every <int:...> id in a URL fits the database's integer: larger ones are missing ids (404).
    app.url_map.converters["int"] = BoundedIntConverter

    assets.init_app(app)  # first: its after_request (compression) then runs after every other
    database.init_app(app)
    i18n.init_app(app)
    from forum.views import attachments as attachment_views

    attachment_views.init_app(app)  # before CSRF reads a form: larger requests where files go
    _init_security(app)
    input_checks.init_app(app)
    templating.init_app(app)

    from forum.views import (
        accounts,
        agenda,
        api,
        api_tokens,
        attachments,
        bookmarks,
        composer,
        disclosure,
        discussions,
        feeds,
        guideline_releases,
        guidelines,
        institutions,
        membership,
        moderation,
        notifications,
        pages,
        papers,
        search,
        sitemap,
        transparency,
        workshops,
    )

    app.register_blueprint(accounts.bp)
    app.register_blueprint(notifications.bp)
    app.register_blueprint(moderation.bp)
    app.register_blueprint(disclosure.bp)
    app.register_blueprint(agenda.bp)
    app.register_blueprint(discussions.bp)
    app.register_blueprint(membership.bp)
    app.register_blueprint(institutions.bp)
    app.register_blueprint(transparency.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(sitemap.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(api.bp)  # the read API (issue 16)
    app.register_blueprint(api_tokens.bp)
    app.register_blueprint(composer.bp)  # live preview and formatting help (issue 17)
    app.register_blueprint(bookmarks.bp)  # issue 17
    app.register_blueprint(attachments.bp)  # attachments and avatars (issue 17)
    app.register_blueprint(guidelines.bp)  # guidelines drafted together (issue 18)
    app.register_blueprint(guideline_releases.bp)
    app.register_blueprint(papers.bp)  # papers and their deadlines (issue 18)
    app.register_blueprint(workshops.bp)  # issue 18

    errors.init_app(app)

    from forum import rate_limits

    rate_limits.init_app(app)  # after the blueprints: it puts a limit on every write route

    from forum import page_cache

    page_cache.init_app(app)  # last: it answers only after every other check has passed

    if app.config.get("FORUM_PROXY_COUNT"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["FORUM_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    from forum import cli

    cli.init_app(app)
    return app


def _init_security(app: Flask) -> None:
    from forum.extensions import csrf, limiter, login_manager

    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        from forum.services.accounts import load_session_user

        return load_session_user(user_id)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        if app.config["FORUM_SECURE_COOKIES"]:
            # Served over HTTPS only: browsers must never try plain HTTP again (issue 13).
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response
