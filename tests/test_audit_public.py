"""The public moderation log (issue 14): anyone reads it as sentences in their language, downloads
it whole, and checks the download with no database; the daily checkpoints on the page and in the
digests show when its newest entries were cut."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import Column, MetaData, Table, func, insert, make_url, select, text, update
from sqlalchemy import inspect as inspect_db

from forum import ROOT, create_app
from forum.audit_chain import canonical_json, form_hash
from forum.extensions import db
from forum.models import AgendaStatus, AuditCheckpoint, AuditEntry, User
from forum.models.types import utcnow
from forum.services import (
    agenda,
    audit,
    disclosure,
    moderation,
    topic_areas,
    topic_curation,
    voting,
)
from forum.services.digests.sending import send_digests
from tests.conftest import _worker, app_config, drop_postgres_database, fresh_database_url
from tests.factories import make_agenda_item, make_post, make_round, make_topic, make_user

TOPIC_TITLE = "Refusal training under fine-tuning"
ITEM_TITLE = "Can unlearning be verified?"
ROUND_TITLE = "Spring priorities"
WARNING = "Please cite your sources, Omar."


@pytest.fixture
def world(app, member, other_member, moderator, safety):
    """A topic, a post hidden and restored, the topic locked, an agenda item moved, a round set
    up and a ballot cast: one of each kind of thing the log links to."""
    topic = make_topic(safety, author=member, title=TOPIC_TITLE)
    post = make_post(topic, author=other_member)
    moderation.hide_post(moderator, post, reason="Off-topic")
    moderation.restore_post(moderator, post)
    topic_curation.lock_topic(moderator, topic, note="Settled.")
    item = make_agenda_item(member, title=ITEM_TITLE)
    agenda.change_status(moderator, item, AgendaStatus.DECLINED, note="Out of scope for now.")
    on_ballot = [make_agenda_item(member) for _ in range(2)]
    round_ = make_round(moderator, on_ballot, title=ROUND_TITLE)
    voting.cast_ballot(member, round_, entries={on_ballot[0].id: 3})
    return {"topic": topic, "post": post, "item": item, "round": round_}


def page_text(response) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(re.sub(r"<[^>]+>", "", response.get_data(as_text=True)))


def newest_hash() -> str:
    return db.session.scalar(select(AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1))


def download(client, path: Path) -> list[str]:
    response = client.get("/moderation/log.jsonl")
    assert response.status_code == 200
    assert response.mimetype == "application/jsonl"
    assert "attachment" in response.headers["Content-Disposition"]
    lines = response.get_data(as_text=True).splitlines()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lines


# --- Reading the log ------------------------------------------------------------------------------


def test_a_visitor_reads_the_log_as_sentences_with_links_its_length_and_head_hash(client, world):
    response = client.get("/moderation/log")
    page = response.get_data(as_text=True)
    words = page_text(response)
    topic, post, item, round_ = world["topic"], world["post"], world["item"], world["round"]

    assert "Mo Moderator hid a post in Refusal training under fine-tuning." in words
    assert "Mo Moderator restored a post in Refusal training under fine-tuning." in words
    assert "Mo Moderator locked Refusal training under fine-tuning." in words
    assert f"Mo Moderator moved the agenda item {ITEM_TITLE} from Proposed to Declined." in words
    assert f"Mo Moderator set up the voting round {ROUND_TITLE}." in words
    # Who voted is theirs to tell.
    assert f"A member cast or changed their ballot in {ROUND_TITLE}." in words
    assert "Maya Member" not in words
    # Links to what the entries are about.
    assert f'href="/p/{post.id}"' in page
    assert f'href="/t/{topic.id}/{topic.slug}"' in page
    assert f'href="/agenda/{item.id}"' in page
    assert f'href="/rounds/{round_.id}"' in page
    assert "Off-topic" in words and "Settled." in words  # reasons about what a visitor may read
    # The internal names are gone.
    assert "voting_round" not in words and "post.hide" not in words
    # How long the log is, its head, and each entry's seq with its hash.
    count = db.session.scalar(select(func.count()).select_from(AuditEntry))
    head = newest_hash()
    assert f"The log holds {count} entries." in words
    assert f'id="head-hash">{head}</code>' in page
    assert f'<tr id="entry-{count}"><td>{count}</td>' in page
    assert f'title="{head}">{head[:12]}</code>' in page


def test_an_arabic_reader_reads_the_same_sentences_in_arabic(client, world):
    words = page_text(client.get("/moderation/log", headers={"Accept-Language": "ar,en;q=0.5"}))

    assert f"أخفى Mo Moderator مشاركة في {TOPIC_TITLE}." in words
    assert f"أقفل Mo Moderator {TOPIC_TITLE}." in words
    assert f"أدلى أحد الأعضاء بورقة اقتراعه أو غيّرها في {ROUND_TITLE}." in words
    assert "سجل الإشراف" in words


def test_a_warning_says_a_member_was_warned_never_whom_nor_what(
    client, member, other_member, moderator, safety, tmp_path
):
    topic = make_topic(safety, author=member, title="Benchmarks")
    post = make_post(topic, author=other_member)
    moderation.warn_author(moderator, post, message=WARNING)

    client.login(make_user())
    words = page_text(client.get("/moderation/log"))
    [line] = download(client, tmp_path / "log.jsonl")

    assert "Mo Moderator warned a member." in words
    for secret in ("Omar", WARNING):
        assert secret not in words and secret not in line
    entry = json.loads(line)
    assert entry["target"] == {"type": "user", "id": None}  # not the member's id
    assert entry["data"] == {}  # not the post either: it would name them
    assert str(post.id) not in json.dumps(entry["data"])


def test_entries_about_a_restricted_topic_name_it_only_to_those_let_in(
    client, member, other_member, moderator, safety
):
    topic = make_topic(safety, author=member, title="Embargoed bypass of Model X")
    post = make_post(topic, author=other_member)
    disclosure.restrict_topic(moderator, topic, embargo_until=utcnow() + timedelta(days=30))
    moderation.hide_post(moderator, post, reason="Shares a working exploit")

    words = page_text(client.get("/moderation/log"))
    assert "Mo Moderator hid a post in a topic." in words
    assert "Model X" not in words and "exploit" not in words
    assert f"/p/{post.id}" not in client.get("/moderation/log").get_data(as_text=True)

    client.login(moderator)
    words = page_text(client.get("/moderation/log"))
    assert "Mo Moderator hid a post in Embargoed bypass of Model X." in words
    assert "Shares a working exploit" in words


def test_the_download_is_the_hashed_public_form_anyone_can_recompute(client, world, tmp_path):
    lines = download(client, tmp_path / "log.jsonl")

    entries = [json.loads(line) for line in lines]
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    previous = "0" * 64
    for line, entry in zip(lines, entries, strict=True):
        assert line == canonical_json(entry)  # sorted keys, no spaces: the bytes hashed
        assert set(entry) == {
            "seq",
            "moment",
            "action",
            "target",
            "actor",
            "data",
            "private",
            "prev_hash",
            "hash",
        }
        assert entry["prev_hash"] == previous
        assert form_hash(entry) == entry["hash"]
        previous = entry["hash"]
    assert previous == newest_hash()
    everything = "\n".join(lines)
    for private in ("Off-topic", "Settled.", "Out of scope for now.", "Maya Member"):
        assert private not in everything


# --- Checking a download with no database ---------------------------------------------------------


def verify(runner, path: Path, *options: str):
    return runner.invoke(args=["verify-audit", "--file", str(path), *options])


def test_an_intact_download_verifies_and_its_head_is_found(runner, client, world, tmp_path):
    path = tmp_path / "log.jsonl"
    lines = download(client, path)

    result = verify(runner, path, "--head", newest_hash())

    assert result.exit_code == 0, result.output
    assert f"intact: {len(lines)} entries verified" in result.output
    assert f"The head given is entry {len(lines)}, the newest." in result.output


def test_the_offline_check_names_a_changed_entry(runner, client, world, tmp_path):
    path = tmp_path / "log.jsonl"
    lines = download(client, path)
    entry = json.loads(lines[2])
    entry["actor"] = "Someone Else"
    lines[2] = canonical_json(entry)
    path.write_text("\n".join(lines) + "\n")

    result = verify(runner, path)

    assert result.exit_code == 1
    assert "Entry 3 was changed or forged" in result.output
    assert "entries 1 to 2 are intact" in result.output


def test_the_offline_check_names_a_removed_middle_entry(runner, client, world, tmp_path):
    path = tmp_path / "log.jsonl"
    lines = download(client, path)
    path.write_text("\n".join(lines[:3] + lines[4:]) + "\n")

    result = verify(runner, path)

    assert result.exit_code == 1
    assert "An entry before 5 was removed or moved: entry 4 is missing." in result.output


def test_the_offline_check_notices_entries_reordered(runner, client, world, tmp_path):
    path = tmp_path / "log.jsonl"
    lines = download(client, path)
    lines[1], lines[2] = lines[2], lines[1]
    path.write_text("\n".join(lines) + "\n")
    assert verify(runner, path).exit_code == 1

    # Even renumbered to look in order, they no longer chain.
    first, second = json.loads(lines[1]), json.loads(lines[2])
    first["seq"], second["seq"] = 2, 3
    lines[1], lines[2] = canonical_json(first), canonical_json(second)
    path.write_text("\n".join(lines) + "\n")
    result = verify(runner, path)

    assert result.exit_code == 1
    assert "Entry 2" in result.output and "out of order" in result.output


def test_cutting_the_newest_entries_shows_against_a_kept_head_or_checkpoint(
    runner, client, world, tmp_path
):
    path = tmp_path / "log.jsonl"
    lines = download(client, path)
    head, count = newest_hash(), len(lines)
    path.write_text("\n".join(lines[:-2]) + "\n")

    assert verify(runner, path).exit_code == 0  # the chain alone cannot tell
    with_head = verify(runner, path, "--head", head)
    with_checkpoint = verify(runner, path, "--checkpoint", f"{count}:{head}")

    assert with_head.exit_code == 1
    assert f"No entry has the head hash {head}" in with_head.output
    assert f"the log ends at entry {count - 2}" in with_head.output
    assert with_checkpoint.exit_code == 1
    assert f"entries {count - 1} to {count} (at least) were removed" in with_checkpoint.output


def test_a_file_that_is_not_a_log_gets_a_clear_message(runner, client, world, tmp_path):
    path = tmp_path / "log.jsonl"
    lines = download(client, path)
    path.write_text(lines[0] + "\nnot json at all\n")
    not_json = verify(runner, path)
    path.write_text(lines[0] + '\n{"seq": 2}\n')
    not_an_entry = verify(runner, path)
    bad_checkpoint = verify(runner, path, "--checkpoint", "seven:abc")

    assert not_json.exit_code == 1 and "Line 2 is not JSON." in not_json.output
    assert not_an_entry.exit_code == 1 and "Line 2 is not an audit entry" in not_an_entry.output
    assert bad_checkpoint.exit_code == 2 and "COUNT:HASH" in bad_checkpoint.output
    for result in (not_json, not_an_entry, bad_checkpoint):
        assert "Traceback" not in result.output and not isinstance(result.exception, ValueError)


def test_anyone_checks_a_download_without_the_forums_database(client, world, tmp_path):
    path = tmp_path / "log.jsonl"
    download(client, path)
    env = {
        **os.environ,
        "FORUM_DATABASE_URL": f"sqlite:///{tmp_path}/no-such-dir/none.db",
        "FORUM_SECRET_KEY": "x" * 32,
    }
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "forum", "verify-audit", "--file", str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "The audit log is intact" in done.stdout
    assert not (tmp_path / "no-such-dir").exists()


# --- Checkpoints ----------------------------------------------------------------------------------


def test_a_daily_checkpoint_is_published_once_and_listed_on_the_log_page(runner, client, world):
    first = runner.invoke(args=["audit-checkpoint"])
    again = runner.invoke(args=["audit-checkpoint"])

    count = db.session.scalar(select(func.count()).select_from(AuditEntry))
    label = f"{count}:{newest_hash()}"
    assert first.exit_code == 0 and label in first.output
    assert again.output == first.output
    assert db.session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 1
    words = page_text(client.get("/moderation/log"))
    assert "Daily checkpoints" in words and label in words


def test_cutting_entries_after_a_checkpoint_fails_the_database_check(runner, world):
    audit.publish_checkpoint()
    count = db.session.scalar(select(func.count()).select_from(AuditEntry))
    assert runner.invoke(args=["verify-audit"]).exit_code == 0

    db.session.execute(text(f"DELETE FROM audit_entries WHERE seq > {count - 2}"))
    db.session.commit()
    result = runner.invoke(args=["verify-audit"])

    assert result.exit_code == 1
    assert f"The log ends at entry {count - 2}, but the checkpoint {count}:" in result.output


def test_the_digest_carries_the_latest_checkpoint(app, mail_server, member, moderator, world):
    featured = make_topic(
        topic_areas.get_category("announcements"), author=moderator, title="Call for reviewers"
    )
    topic_curation.feature_topic(moderator, featured, summary="Help review the draft.")
    db.session.execute(update(User).values(digest_frequency="off"))
    member.digest_frequency, member.digest_hour, member.timezone = "daily", 0, "UTC"
    db.session.commit()

    report = send_digests(now=utcnow())

    assert report.sent == 1
    [message] = mail_server.wait_for(1)
    checkpoint = db.session.scalars(select(AuditCheckpoint)).one()
    label = checkpoint.label
    text_part = message.get_body(preferencelist=("plain",)).get_content()
    html_part = message.get_body(preferencelist=("html",)).get_content()
    assert "Moderation log checkpoint" in text_part
    assert label in text_part and label in html_part
    assert f"held {checkpoint.entry_count} entries" in text_part
    assert "http://127.0.0.1:5000/moderation/log" in text_part


def test_the_readme_recipe_recomputes_a_download(client, world, tmp_path, monkeypatch, capsys):
    """README's few lines of Python, run on a real download, reach the page's head hash."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The audit log") :]
    recipe = section[section.index("```python") + len("```python") : section.index("```\n\n")]
    lines = download(client, tmp_path / "moderation-log.jsonl")
    monkeypatch.chdir(tmp_path)

    exec(compile(recipe, "README.md", "exec"), {})

    assert capsys.readouterr().out.split() == [str(len(lines)), newest_hash()]


# --- Upgrading a log sealed the old way -----------------------------------------------------------


def _old_seal(rows: list[dict]) -> None:
    """How entries were hashed before migration 0019: every field, private ones included."""
    import hashlib

    prev = "0" * 64
    for row in rows:
        row["prev_hash"] = prev
        fields = {k: row[k] for k in row if k not in ("id", "hash")}
        fields["created_at"] = row["created_at"].isoformat(timespec="microseconds")
        row["hash"] = hashlib.sha256(canonical_json(fields).encode("utf-8")).hexdigest()
        prev = row["hash"]


@pytest.fixture
def migrated_app(backend, request, tmp_path):
    """An app on a database of its own, empty until the test runs the migrations."""
    url = fresh_database_url(backend, f"forum_audit_upgrade_{_worker(request)}", tmp_path)
    yield create_app(app_config(url))
    if backend == "postgresql":
        drop_postgres_database(make_url(url).database)


def test_upgrading_re_seals_an_old_log_without_what_is_private(migrated_app):
    moment = utcnow().replace(microsecond=123456)
    rows = [
        {
            "seq": 1,
            "created_at": moment,
            "actor_id": None,
            "actor_name": "system",
            "action": "round.close",
            "target_type": "voting_round",
            "target_id": 3,
            "reason": "",
            "public_details": '{"ballots":4}',
            "private_details": "{}",
        },
        {
            "seq": 2,
            "created_at": moment + timedelta(minutes=1),
            "actor_id": None,  # an account since deleted
            "actor_name": "Mo Moderator",
            "action": "member.warn",
            "target_type": "user",
            "target_id": 12,
            "reason": "",
            "public_details": '{"post":40}',
            "private_details": '{"message":"Please cite your sources."}',
        },
    ]
    _old_seal(rows)
    with migrated_app.app_context():
        upgrade(revision="0017")
        table = sa_table("audit_entries", inspect_db(db.engine))
        with db.engine.begin() as connection:
            connection.execute(insert(table), rows)
        upgrade()

        assert audit.verify_audit().ok
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        closed, warned = (audit.entry_form(e) for e in entries)
        assert (closed["actor"], closed["data"]) == ("system", {"ballots": 4})
        assert warned["target"] == {"type": "user", "id": None} and warned["data"] == {}
        assert entries[1].private == {"message": "Please cite your sources.", "post": 40}
        db.session.remove()

        downgrade(revision="0017")  # sealed the old way again
        with db.engine.connect() as connection:
            back = [dict(r._mapping) for r in connection.execute(select(table).order_by("seq"))]
        for row in back:
            row["created_at"] = row["created_at"].replace(tzinfo=moment.tzinfo)
        hashes = [row["hash"] for row in back]
        _old_seal(back)
        assert [row["hash"] for row in back] == hashes
        db.engine.dispose()


def sa_table(name: str, inspector) -> Table:
    columns = [Column(c["name"], c["type"]) for c in inspector.get_columns(name)]
    return Table(name, MetaData(), *columns)
