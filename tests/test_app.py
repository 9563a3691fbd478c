"""How the app is set up: secret key, SQLite settings, cookies, error pages and headers."""

import os
import stat

from sqlalchemy import text

from forum import create_app
from forum.config import load_or_create_secret_key
from forum.extensions import db
from tests.conftest import app_config


def test_without_a_configured_secret_key_one_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("FORUM_SECRET_KEY", raising=False)
    instance = tmp_path / "instance"
    key = load_or_create_secret_key(str(instance))
    assert len(key) >= 64
    assert load_or_create_secret_key(str(instance)) == key
    assert stat.S_IMODE(os.stat(instance / "secret_key").st_mode) == 0o600
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})
    with open(os.path.join(app.instance_path, "secret_key")) as kept:
        assert app.config["SECRET_KEY"] == kept.read().strip()


def test_secret_key_from_the_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("FORUM_SECRET_KEY", "from-the-environment")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})
    assert app.config["SECRET_KEY"] == "from-the-environment"


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path):
    app = create_app(app_config(f"sqlite:///{tmp_path}/pragmas.db"))
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        db.engine.dispose()


def test_session_cookie_is_httponly_and_samesite_lax(client, member):
    response = client.post(
        "/login", data={"email": member.email, "password": "correct horse battery"}
    )
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    assert "Secure" not in session_cookie


def test_secure_cookies_setting_marks_cookies_secure(database_url, monkeypatch):
    monkeypatch.setenv("FORUM_SECURE_COOKIES", "1")
    app = create_app(app_config(database_url))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_pages_forbid_framing_and_outside_scripts(client):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_server_error_shows_the_500_page(app, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/boom")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)


def test_layout_has_a_skip_link_landmarks_and_labelled_inputs(open_registration, client):
    page = client.get("/register").get_data(as_text=True)
    assert '<a class="skip-link" href="#main">' in page
    assert '<main id="main"' in page and "<header" in page and "<footer" in page
    for field in ("email", "display_name", "password", "confirm"):
        assert f'<label class="field-label" for="{field}">' in page


def test_nothing_is_loaded_from_another_host(client, member, topic):
    page = client.get(f"/t/{topic.id}/{topic.slug}").get_data(as_text=True)
    assert 'src="http' not in page and 'href="http' not in page.split("<main")[0]
