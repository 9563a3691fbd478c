"""Flask CLI commands: thin wrappers over services (run with `flask --app forum ...`)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from forum.services import accounts, demo, discussions, search

DEMO_LOGINS_FILE = "demo-logins.txt"


@click.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", "display_name", prompt="Display name")
@click.password_option(help="At least 10 characters.")
def create_admin(email: str, display_name: str, password: str) -> None:
    """Create an admin account (or make an existing account an admin)."""
    try:
        user = accounts.create_admin(email=email, display_name=display_name, password=password)
    except ValueError:
        raise click.UsageError(
            f"The password needs at least {accounts.PASSWORD_MIN_LENGTH} characters."
        ) from None
    click.echo(f"{user.email} is now an admin.")


@click.command("create-areas")
def create_areas() -> None:
    """Create the standard topic areas that are missing (safe to run again)."""
    areas = discussions.ensure_default_categories()
    click.echo(f"{len(areas)} topic areas.")


@click.command("seed-demo")
def seed_demo() -> None:
    """Load demo content into an empty forum, and print the demo logins."""
    logins_file = Path(current_app.instance_path) / DEMO_LOGINS_FILE
    if demo.is_seeded():
        click.echo("The forum already has accounts; demo content not loaded.")
    else:
        logins = demo.seed_demo()
        lines = [f"  {login.role:<10} {login.email:<32} {login.password}" for login in logins]
        logins_file.write_text("\n".join(lines) + "\n")
        logins_file.chmod(0o600)
    if logins_file.exists():
        click.echo("Demo logins (role, email, password):")
        click.echo(logins_file.read_text().rstrip())


search_group = AppGroup("search", help="The similar-topics index.")


@search_group.command("reindex")
def reindex() -> None:
    """Rebuild the index from every topic's title and opening post."""
    click.echo(f"{search.reindex_all()} topics indexed.")


def init_app(app: Flask) -> None:
    for command in (create_admin, create_areas, seed_demo, search_group):
        app.cli.add_command(command)
