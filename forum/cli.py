"""Flask CLI commands: thin wrappers over services (run with `flask --app forum ...`)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from forum import audit_chain, result_check
from forum import tally as tally_core
from forum.names import TextRefused
from forum.services import (
    accounts,
    attachments,
    audit,
    backups,
    bookmarks,
    demo,
    disclosure,
    notification_emails,
    paper_deadlines,
    round_files,
    round_results,
    search,
    topic_areas,
    voting,
    workshop_reminders,
)
from forum.services.digests.sending import send_digests

DEMO_LOGINS_FILE = "demo-logins.txt"


@click.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", "display_name", prompt="Display name")
@click.password_option(help="At least 10 characters.")
def create_admin(email: str, display_name: str, password: str) -> None:
    """Create an admin account (or make an existing account an admin)."""
    try:
        user = accounts.create_admin(email=email, display_name=display_name, password=password)
    except TextRefused as error:
        raise click.UsageError(f"--name: {error}") from None
    except ValueError:
        raise click.UsageError(
            f"The password needs at least {accounts.PASSWORD_MIN_LENGTH} characters."
        ) from None
    click.echo(f"{user.email} is now an admin.")


@click.command("create-areas")
def create_areas() -> None:
    """Create the standard topic areas that are missing (safe to run again)."""
    areas = topic_areas.ensure_default_categories()
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


@click.command("close-rounds")
def close_rounds() -> None:
    """Announce rounds that opened, remind non-voters a day before the deadline, and publish
    the results of every round whose deadline has passed (safe from cron, and twice at once)."""
    announced, reminded = voting.announce_rounds()
    if announced or reminded:
        click.echo(f"{announced} round(s) announced, {reminded} reminder(s) sent.")
    closed = round_results.close_due_rounds()
    for round_ in closed:
        click.echo(f"Round {round_.id} closed: {round_.title}")
    if not closed:
        click.echo("No round was due.")


@click.command("verify-round")
@click.argument("round_id", type=int, required=False)
@click.argument("ballots", type=click.File("r", encoding="utf-8"), required=False)
@click.option(
    "--file",
    "ballot_file",
    type=click.File("r", encoding="utf-8"),
    help="A downloaded ballot file (with --results: no database is used).",
)
@click.option(
    "--results",
    "results_file",
    type=click.File("r", encoding="utf-8"),
    help="The round's downloaded results JSON.",
)
def verify_round(round_id, ballots, ballot_file, results_file) -> None:
    """Recompute a closed round from a ballot file and check every published figure: exit 1
    naming the first that differs. Either ROUND_ID FILE (against this forum's database) or
    --file FILE --results RESULTS.json (offline, from the two downloads alone)."""
    try:
        if round_id is not None and ballots is not None and results_file is None:
            round_ = voting.get_round(round_id)
            if round_ is None or round_.results is None:
                raise click.ClickException(f"Round {round_id} has no published result.")
            difference = round_files.verify_round(round_, _read(ballots))
            order = round_.results.get("order")
        elif ballot_file is not None and results_file is not None and round_id is None:
            try:
                published = json.loads(_read(results_file))
            except ValueError as error:
                raise click.ClickException(f"The results file is not JSON ({error}).") from None
            if not isinstance(published, dict):
                raise click.ClickException("The results file is not a round's results.")
            how = result_check.parameters(published)
            ballots_read = tally_core.read_ballot_file(_read(ballot_file))
            counted = result_check.recount(ballots_read, how)
            difference = result_check.first_difference(
                published, counted, empty_ballots=len(ballots_read.empty_ballots)
            )
            order = published.get("order")
        else:
            raise click.UsageError("Give ROUND_ID FILE, or --file FILE --results RESULTS.json.")
    except (ValueError, result_check.WrongRound) as error:
        # BallotFileError names the line; rule errors, wrong rounds and bad results say what
        raise click.ClickException(str(error)) from None
    if difference is None:
        click.echo(f"The ballots reproduce the published result, every figure of it: order {order}")
        return
    click.echo(f"MISMATCH: {difference}")
    raise SystemExit(1)


def _read(file) -> str:
    """A file's text; one that is not UTF-8 gets a message instead of a traceback."""
    try:
        return file.read()
    except UnicodeDecodeError:
        raise click.ClickException(
            f"{file.name} is not a UTF-8 text file (a ballot file is CSV, a results file JSON)."
        ) from None


def _item_list(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        items = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter("a comma-separated list of item ids, e.g. 3,4,7") from None
    if not items:
        raise click.BadParameter("at least one item id")
    return items


@click.command("tally")
@click.option("--method", type=click.Choice(["approval", "budget", "ranked", "quadratic"]))
@click.option("--budget", type=int, default=10, show_default=True)
@click.option("--cap", type=int, default=5, show_default=True)
@click.option("--credits", "credits_", type=int, default=100, show_default=True)
@click.option(
    "--items",
    help="The round's agenda items, comma-separated (default: the items the file lists).",
)
@click.option(
    "--cap-share",
    type=float,
    help="No institution above this share of an item's total (the file's institution column).",
)
@click.option(
    "--receipt", help="Say whether this receipt is in the file, and what its ballot gives."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.argument("ballots", type=click.File("r", encoding="utf-8"))
def tally_command(
    method, budget, cap, credits_, items, cap_share, receipt, as_json, ballots
) -> None:
    """Tally a ballot file alone (ballot_id,item_id,value, and the optional round_id, receipt
    and institution columns): no database is used."""
    try:
        ballot_file = tally_core.read_ballot_file(_read(ballots))
        if receipt is not None:
            _echo_receipt(ballot_file, receipt)
            return
        if method is None:
            raise click.UsageError("Give --method (or --receipt).")
        institutions = None
        if cap_share is not None:
            if ballot_file.institutions is None:
                raise click.ClickException(
                    "--cap-share needs the file's institution column, and this file has none."
                )
            institutions = ballot_file.institutions
        result = tally_core.tally(
            method,
            ballot_file.rows,
            items=_item_list(items),
            budget=budget,
            cap=cap,
            credits=credits_,
            institutions=institutions,
            institution_share=cap_share,
        )
    except ValueError as error:  # BallotFileError and rule violations name the line or ballot
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return
    for rank, item in enumerate(result.order, start=1):
        click.echo(f"{rank:>3}. item {item}: {tally_core.score_text(result.scores.get(item, 0))}")


def _echo_receipt(ballot_file: tally_core.BallotFile, receipt: str) -> None:
    found = tally_core.find_receipt(ballot_file, receipt)
    if found is None:
        click.echo(f"Receipt {receipt} is NOT in this file.")
        raise SystemExit(1)
    ballot_id, entries = found
    given = ", ".join(f"item {item}: {value}" for item, value in entries.items()) or "nothing"
    click.echo(f"Receipt {receipt} is in this file: ballot {ballot_id} gives {given}.")


def _checkpoint_option(ctx, param, values) -> dict[int, str]:
    kept = {}
    for value in values:
        try:
            count, hash_ = audit_chain.parse_checkpoint(value)
        except ValueError as error:
            raise click.BadParameter(str(error)) from None
        kept[count] = hash_
    return kept


def _head_option(ctx, param, value: str | None) -> str | None:
    if value is not None and not audit_chain.is_hash(value.lower()):
        raise click.BadParameter("a head hash is 64 hex digits")
    return value.lower() if value else None


@click.command("verify-audit")
@click.option(
    "--file",
    "log_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Check a downloaded log (JSON lines from /moderation/log.jsonl), without the database.",
)
@click.option(
    "--head", callback=_head_option, help="A head hash kept earlier: it must still be in the log."
)
@click.option(
    "--checkpoint",
    "checkpoints",
    multiple=True,
    callback=_checkpoint_option,
    metavar="COUNT:HASH",
    help="A published checkpoint: entry COUNT must exist and have HASH (repeatable).",
)
def verify_audit(log_file: Path | None, head: str | None, checkpoints: dict[int, str]) -> None:
    """Check the audit log's hash chain (the database's, or a downloaded file's); exit status 1
    names the first entry tampered with."""
    if log_file is None:
        result = audit.verify_audit(checkpoints=checkpoints, head=head)
    else:
        try:
            with log_file.open(encoding="utf-8") as lines:
                result = audit_chain.verify_chain(
                    audit_chain.read_log(lines),
                    is_intact=audit_chain.file_entry_is_intact,
                    checkpoints=checkpoints,
                    head=head,
                )
        except (audit_chain.LogFileError, UnicodeDecodeError) as error:
            problem = str(error) if isinstance(error, audit_chain.LogFileError) else "not UTF-8"
            click.echo(f"{log_file} is not a downloaded audit log: {problem}", err=True)
            raise SystemExit(1) from None
    output, status = audit_chain.verification_report(result, head=head)
    click.echo(output)
    raise SystemExit(status)


@click.command("audit-checkpoint")
def audit_checkpoint() -> None:
    """Publish today's checkpoint of the audit log (entry count and head hash; once a day, safe
    to run again): shown on the log page and in the digests."""
    checkpoint = audit.publish_checkpoint()
    click.echo(f"Checkpoint for {checkpoint.day.isoformat()}: {checkpoint.label}")


def _echo_checks(checks: backups.Checks) -> None:
    for check in checks.checks:
        click.echo(f"{check.name}: {'ok' if check.ok else 'FAILED'} ({check.detail})")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path) -> None:
    """Write a consistent snapshot of the database to PATH while the forum keeps running."""
    try:
        checks = backups.backup(path)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    _echo_checks(checks)
    click.echo(f"Backup written to {path}.")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(path: Path) -> None:
    """Restore the backup at PATH into this (empty) database, then check it."""
    try:
        checks = backups.restore(path)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    _echo_checks(checks)
    if not checks.ok:
        click.echo("The restored database failed a check; do not open it to members.", err=True)
        raise SystemExit(1)
    click.echo(f"Restored from {path}; every check passed.")


@click.command("lift-embargoes")
def lift_embargoes() -> None:
    """Open the restricted topics whose embargo has ended: counted, and logged (cron)."""
    for topic in disclosure.lift_due_embargoes():
        click.echo(f"Embargo ended: topic {topic.id}")


def _echo_report(report, dry_run: bool) -> None:
    if dry_run:
        for email, period in report.would_send:
            click.echo(f"would send {period} to {email}")
        click.echo(
            f"{len(report.would_send)} would be sent; {report.skipped_empty} have nothing new."
        )
        return
    if report.abandoned:
        click.echo(
            f"{report.abandoned} left 'sending' by a sender that stopped before finishing; "
            "taken up again (or given up after the last attempt)."
        )
    click.echo(
        f"{report.sent} sent, {report.skipped_empty} with nothing new, "
        f"{report.pending} waiting for a retry, {report.failed} given up."
    )
    if report.waiting:
        due = report.next_attempt_at.strftime("%Y-%m-%d %H:%M UTC")
        click.echo(f"{report.waiting} still to send; the next attempt is due at {due}.")
    if report.last_error:
        click.echo(f"Last failure: {report.last_error}", err=True)
    if report.server_unreachable:
        click.echo(
            "Stopped: the mail server is unreachable. The next run continues where this stopped.",
            err=True,
        )
        raise SystemExit(1)  # so that cron reports it


@click.command("send-digests")
@click.option(
    "--dry-run", is_flag=True, help="List who would get a digest; record and send nothing."
)
@click.option("--limit", type=int, default=None, help="Attempt at most this many digests.")
def send_digests_command(dry_run: bool, limit: int | None) -> None:
    """Send the digests that are due (safe from cron, and to run twice at once)."""
    _echo_report(send_digests(dry_run=dry_run, limit=limit), dry_run)


@click.command("send-notifications")
@click.option(
    "--dry-run", is_flag=True, help="List who would get an email; record and send nothing."
)
def send_notifications_command(dry_run: bool) -> None:
    """Notify the bookmark reminders that are due, then email waiting mentions, replies and
    reminders, one email per burst (safe from cron)."""
    if not dry_run:
        reminded = bookmarks.send_reminders()
        click.echo(
            f"{reminded.sent} bookmark reminders notified, {reminded.dropped} dropped "
            "(their post is no longer there for the member)."
        )
    _echo_report(notification_emails.send_notifications(dry_run=dry_run), dry_run)


search_group = AppGroup("search", help="The full-text index (search and similar topics).")


@search_group.command("reindex")
def reindex() -> None:
    """Rebuild the full-text index from every post's text and every topic's title."""
    click.echo(f"{search.reindex_posts()} posts indexed for full-text search.")


attachments_group = AppGroup("attachments", help="Files attached to posts.")


@attachments_group.command("discard-unposted")
def discard_unposted() -> None:
    """Delete uploads no post took within a day (cron daily; safe to run twice at once)."""
    click.echo(f"{attachments.discard_unposted()} unposted uploads deleted.")


papers_group = AppGroup("papers", help="Papers in preparation and their deadlines (issue 18).")


@papers_group.command("remind")
def remind_papers() -> None:
    """Email co-authors a week and a day before each deadline (cron hourly; each once)."""
    report = paper_deadlines.send_deadline_reminders()
    click.echo(f"{report.sent} deadline reminders sent, {report.failed} to try again.")


workshops_group = AppGroup("workshops", help="Workshops and their reminders (issue 18).")


@workshops_group.command("remind")
def remind_workshops() -> None:
    """Email each seat holder the day before their workshop (cron hourly; each once)."""
    report = workshop_reminders.send_workshop_reminders()
    click.echo(f"{report.sent} workshop reminders sent, {report.failed} to try again.")


def init_app(app: Flask) -> None:
    for command in (
        attachments_group,
        papers_group,
        workshops_group,
        create_admin,
        create_areas,
        seed_demo,
        search_group,
        close_rounds,
        verify_round,
        tally_command,
        verify_audit,
        audit_checkpoint,
        lift_embargoes,
        send_digests_command,
        send_notifications_command,
        backup_command,
        restore_command,
    ):
        app.cli.add_command(command)
