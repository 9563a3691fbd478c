"""The audit log: moderation actions and ballot changes, chained by hashes, checked from the CLI."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, insert, select, text

from forum.extensions import db
from forum.models import User
from forum.models.audit import GENESIS_HASH, AuditEntry
from forum.services import audit, audit_log

START = datetime(2025, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)


def hide_posts(moderator: User, count: int) -> list[AuditEntry]:
    """A moderator hides ``count`` posts, one transaction each, a minute apart."""
    entries = []
    for n in range(1, count + 1):
        entries.append(
            audit.record(
                moderator,
                "post.hide",
                target_type="post",
                target_id=n,
                reason=f"Off-topic reply {n}",
                public={"topic_id": 7},
                private={"warning": f"Please keep to the topic ({n})."},
                now=START + timedelta(minutes=n),
            )
        )
        db.session.commit()
    return entries


def tamper(*statements: str) -> None:
    """Someone with database access changes the log behind the forum's back."""
    for statement in statements:
        db.session.execute(text(statement))
    db.session.commit()
    db.session.expire_all()


def forge(seq: int, *, prev_hash: str, hash: str | None = None) -> None:
    """Insert an entry by hand, sealed properly (commitment and hash) unless a hash is given."""
    values = dict(
        seq=seq,
        created_at=START + timedelta(minutes=seq, seconds=30),
        actor_id=None,
        actor_name="Mo Moderator",
        action="user.suspend",
        target_type="user",
        target_id=99,
        reason="Never happened",
        public_details="{}",
        private_details="{}",
        public_actor="Mo Moderator",
        public_target_id=None,
        private_salt="5a" * 16,
        prev_hash=prev_hash,
    )
    values["private_hash"] = audit.entry_commitment(SimpleNamespace(**values))
    values["hash"] = hash or audit.entry_hash(SimpleNamespace(**values))
    db.session.execute(insert(AuditEntry.__table__).values(**values))
    db.session.commit()


def hash_of(seq: int) -> str:
    return db.session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == seq))


# --- Recording ----------------------------------------------------------------------------------


def test_each_moderation_action_is_chained_to_the_one_before_it(moderator):
    entries = hide_posts(moderator, 3)

    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == GENESIS_HASH
    assert entries[1].prev_hash == entries[0].hash
    assert entries[2].prev_hash == entries[1].hash
    assert all(e.hash == audit.entry_hash(e) for e in entries)
    assert entries[0].actor_id == moderator.id
    assert entries[0].actor_name == "Mo Moderator"
    assert entries[0].created_at == START + timedelta(minutes=1)


def test_a_moderators_entry_rolls_back_with_the_action_it_records(moderator):
    audit.record(moderator, "topic.lock", target_type="topic", target_id=5)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 1

    db.session.rollback()  # the lock failed, say: the entry goes with it

    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    entry = audit.record(moderator, "topic.lock", target_type="topic", target_id=5)
    assert (entry.seq, entry.prev_hash) == (1, GENESIS_HASH)


def test_a_scheduled_job_records_its_actions_as_the_system(app):
    entry = audit.record(None, "round.close", target_type="round", target_id=3)
    db.session.commit()

    assert (entry.actor_id, entry.actor_name) == (None, "system")
    assert audit.verify_audit().ok


def test_a_member_changing_their_ballot_is_logged_without_what_they_chose_or_who(member):
    entry = audit.record(member, "ballot.change", target_type="voting_round", target_id=4)
    db.session.commit()

    form = audit.entry_form(entry)
    assert (form["action"], form["target"], form["data"]) == (
        "ballot.change",
        {"type": "voting_round", "id": 4},
        {},
    )
    assert form["actor"] is None  # who voted is theirs to tell
    assert entry.actor_name == "Maya Member"  # kept, behind the commitment
    assert "Maya" not in audit.canonical_json(form)


def test_entries_cannot_be_changed_or_deleted_through_the_forum(moderator):
    [entry] = hide_posts(moderator, 1)

    entry.reason = "Something kinder"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
    db.session.rollback()

    db.session.delete(entry)
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    assert audit.verify_audit().ok


# --- The public log -----------------------------------------------------------------------------


def test_the_public_form_holds_public_details_and_only_a_commitment_to_private_ones(moderator):
    entry = audit.record(
        moderator,
        "member.warn",
        target_type="user",
        target_id=12,
        reason="Personal attacks",
        public={"rule": "Be kind"},
        private={"warning": "Your reply to Omar was a personal attack."},
    )
    db.session.commit()

    form = audit.entry_form(entry)

    assert form["data"] == {"rule": "Be kind"}
    assert form["target"] == {"type": "user", "id": None}  # never whom
    assert form["actor"] == "Mo Moderator"
    assert form["private"] == entry.private_hash == audit.entry_commitment(entry)
    text_ = audit.canonical_json(form)
    assert "personal attack" not in text_ and "Personal attacks" not in text_
    assert entry.hash == audit.entry_hash(entry)


def test_the_public_log_shows_the_newest_first_a_page_at_a_time(app, moderator, queries):
    hide_posts(moderator, 7)

    with app.test_request_context():
        with queries:
            first = audit_log.public_page(None, per_page=3)
        second = audit_log.public_page(None, page=2, per_page=3)
        beyond = audit_log.public_page(None, page=9, per_page=3)

    # The rows with the head, the posts (none readable: they do not exist), the checkpoints.
    assert queries.count == 3, queries.report()
    assert [e.seq for e in first.items] == [7, 6, 5]
    assert [e.seq for e in second.items] == [4, 3, 2]
    assert (first.total, first.pages, first.has_next, second.has_prev) == (7, 3, True, True)
    assert [e.seq for e in beyond.items] == [1]  # past the end: the last page


# --- Verifying ----------------------------------------------------------------------------------


def test_an_untouched_log_verifies_and_reports_its_newest_hash(moderator):
    entries = hide_posts(moderator, 30)

    result = audit.verify_audit()
    output, status = audit.verify_command_output(result)

    assert (result.ok, result.checked, result.first_bad_seq) == (True, 30, None)
    assert result.last_hash == entries[-1].hash
    assert status == 0
    assert "intact: 30 entries" in output
    assert entries[-1].hash in output


def test_an_empty_log_verifies(app):
    result = audit.verify_audit()

    assert (result.ok, result.checked) == (True, 0)
    assert audit.verify_command_output(result) == ("The audit log is empty: nothing to verify.", 0)


def test_verification_names_an_entry_edited_afterwards(moderator):
    hide_posts(moderator, 30)
    tamper("UPDATE audit_entries SET reason = 'Spam' WHERE seq = 17")

    result = audit.verify_audit()
    output, status = audit.verify_command_output(result)

    assert (result.ok, result.checked, result.first_bad_seq) == (False, 16, 17)
    assert result.problem.startswith("Entry 17 was changed")
    assert status == 1
    assert "Entry 17 was changed" in output
    assert "entries 1 to 16 are intact" in output


def test_verification_suggests_why_an_entry_lost_its_actor(moderator):
    hide_posts(moderator, 3)
    # What ON DELETE SET NULL does when the moderator's account is deleted.
    tamper("UPDATE audit_entries SET actor_id = NULL WHERE seq = 2")

    result = audit.verify_audit()

    assert result.first_bad_seq == 2
    assert "was the account of the person who acted deleted?" in result.problem


def test_verification_notices_an_entry_deleted_from_the_middle(moderator):
    hide_posts(moderator, 30)
    tamper("DELETE FROM audit_entries WHERE seq = 18")

    result = audit.verify_audit()

    assert (result.ok, result.checked, result.first_bad_seq) == (False, 17, 19)
    assert result.problem == "An entry before 19 was removed or moved: entry 18 is missing."


def test_verification_notices_the_first_entries_deleted(moderator):
    hide_posts(moderator, 5)
    tamper("DELETE FROM audit_entries WHERE seq <= 2")

    result = audit.verify_audit()

    assert (result.ok, result.checked, result.first_bad_seq) == (False, 0, 3)
    assert result.problem == "An entry before 3 was removed or moved: entries 1 to 2 are missing."


def test_verification_notices_a_deleted_entry_even_when_the_rest_are_renumbered(moderator):
    hide_posts(moderator, 30)
    tamper(
        "DELETE FROM audit_entries WHERE seq = 18",
        "UPDATE audit_entries SET seq = seq + 1000 WHERE seq > 18",
        "UPDATE audit_entries SET seq = seq - 1001 WHERE seq > 1000",
    )

    result = audit.verify_audit()

    assert (result.ok, result.first_bad_seq) == (False, 18)
    assert result.problem.startswith("Entry 18 is out of order")


def test_verification_notices_two_entries_swapped(moderator):
    hide_posts(moderator, 30)
    tamper(
        "UPDATE audit_entries SET seq = -1 WHERE seq = 12",
        "UPDATE audit_entries SET seq = 12 WHERE seq = 13",
        "UPDATE audit_entries SET seq = 13 WHERE seq = -1",
    )

    result = audit.verify_audit()

    assert (result.ok, result.checked, result.first_bad_seq) == (False, 11, 12)
    assert result.problem.startswith("Entry 12 is out of order")


def test_verification_notices_a_forged_entry_added_at_the_end(moderator):
    hide_posts(moderator, 30)
    forge(31, prev_hash=hash_of(30), hash="f" * 64)

    result = audit.verify_audit()

    assert (result.ok, result.checked, result.first_bad_seq) == (False, 30, 31)
    assert result.problem.startswith("Entry 31 was changed or forged")


def test_verification_notices_a_forged_entry_slipped_into_the_middle(moderator):
    hide_posts(moderator, 30)
    # The forger makes room at 16 and even computes a correct hash for the new entry.
    tamper(
        "UPDATE audit_entries SET seq = seq + 1000 WHERE seq >= 16",
        "UPDATE audit_entries SET seq = seq - 999 WHERE seq > 1000",
    )
    forge(16, prev_hash=hash_of(15))

    result = audit.verify_audit()

    assert (result.ok, result.checked, result.first_bad_seq) == (False, 16, 17)
    assert result.problem.startswith("Entry 17 is out of order")


def test_verification_notices_a_forged_entry_numbered_before_the_first(moderator):
    hide_posts(moderator, 3)
    forge(0, prev_hash=GENESIS_HASH)

    result = audit.verify_audit()

    assert (result.ok, result.first_bad_seq) == (False, 0)
    assert result.problem == "Entry 0 was inserted: entries are numbered from 1."


def test_verification_notices_an_entry_replaced_by_a_well_made_forgery(moderator):
    hide_posts(moderator, 30)
    tamper("DELETE FROM audit_entries WHERE seq = 20")
    forge(20, prev_hash=hash_of(19))  # a correct hash, but entry 21 followed the real one

    result = audit.verify_audit()

    assert (result.ok, result.first_bad_seq) == (False, 21)
    assert (
        result.problem == "Entry 21 does not follow entry 20: one of them was forged or replaced."
    )


def test_verification_checks_entries_already_in_memory(moderator):
    entries = hide_posts(moderator, 4)

    assert audit.verify_chain(entries).ok
    assert audit.verify_chain([entries[0], entries[2], entries[1]]).first_bad_seq == 3
    problem = audit.verify_chain(entries[1:]).problem
    assert problem.startswith("An entry before 2 was removed or moved")


def test_operators_check_the_log_with_the_verify_audit_command(app, runner, moderator):
    hide_posts(moderator, 3)

    assert runner.invoke(args=["verify-audit"]).exit_code == 0
    tamper("UPDATE audit_entries SET action = 'post.show' WHERE seq = 2")
    result = runner.invoke(args=["verify-audit"])

    assert result.exit_code == 1
    assert "Entry 2 was changed" in result.output


# --- Appending at the same moment -----------------------------------------------------------------


def test_a_member_and_a_moderator_acting_at_the_same_moment_keep_one_chain(app, member, moderator):
    """Each appends 20 entries from its own session; the lock keeps the chain from forking."""
    people = {member.id: "ballot.change", moderator.id: "post.hide"}
    start = threading.Barrier(len(people))
    failures: list[BaseException] = []

    def act(user_id: int, action: str) -> None:
        try:
            with app.app_context():
                actor = db.session.get(User, user_id)
                db.session.commit()
                start.wait(timeout=10)
                for n in range(20):
                    audit.record(actor, action, target_type="thing", target_id=n)
                    db.session.commit()
        except BaseException as error:  # reported by the assertion below, not lost in the thread
            failures.append(error)

    threads = [threading.Thread(target=act, args=item) for item in people.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    result = audit.verify_audit()
    assert (result.ok, result.checked) == (True, 40), result.problem
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert sorted(set(actions)) == ["ballot.change", "post.hide"]
    assert actions.count("post.hide") == 20
