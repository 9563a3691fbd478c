"""The research agenda: items, rounds, ballots by every method, and checkable results."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import (
    AgendaStatus,
    AgendaStatusChange,
    Ballot,
    RoundResult,
    Topic,
    User,
    VotingMethod,
    VotingRound,
)
from forum.models.types import utcnow
from forum.services import agenda, institutions, round_files, round_results, voting
from tests.factories import make_agenda_item, make_round, make_user
from tests.helpers import field_error


@pytest.fixture
def items(member):
    return [
        make_agenda_item(member, title=t)
        for t in (
            "Membership inference on clinical fine-tunes",
            "Jailbreak transfer across languages",
            "Watermark robustness to paraphrase",
        )
    ]


def close(round_: VotingRound) -> VotingRound:
    """Move the round's closing time into the past and publish its results."""
    round_.closes_at = utcnow() - timedelta(seconds=1)
    round_.opens_at = min(round_.opens_at, round_.closes_at - timedelta(hours=1))
    db.session.commit()
    round_results.close_due_rounds()
    return voting.get_round(round_.id)


def test_a_proposal_gets_its_own_discussion_topic_and_history(client, member):
    client.login(member)
    response = client.post(
        "/agenda/new",
        data={
            "title": "Can unlearning be audited?",
            "area": "privacy",
            "statement": "Vendors claim to unlearn.",
            "rationale": "Regulators need proof.",
            "evidence": "https://arxiv.org/abs/2310.02238\nhttps://example.org/report",
        },
    )
    assert response.status_code == 302
    item = agenda.get_item(1)
    topic = db.session.get(Topic, item.topic_id)
    assert topic.title == "Can unlearning be audited?"
    assert topic.category.slug == "research-agenda"
    assert [e.url for e in item.evidence] == [
        "https://arxiv.org/abs/2310.02238",
        "https://example.org/report",
    ]
    page = client.get(f"/agenda/{item.id}").get_data(as_text=True)
    assert "Regulators need proof." in page and "Proposed" in page


def test_bad_evidence_link_is_refused_and_the_text_kept(client, member):
    client.login(member)
    response = client.post(
        "/agenda/new",
        data={
            "title": "Q",
            "area": "safety",
            "statement": "S kept",
            "rationale": "R",
            "evidence": "not a link",
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This is not a web address: not a link" in page and "S kept</textarea>" in page


def test_moderators_move_items_through_statuses_with_a_note(client, member, moderator, items):
    client.login(member)
    assert (
        client.post(
            f"/agenda/{items[0].id}/status", data={"status": "prioritised", "note": "x"}
        ).status_code
        == 403
    )
    client.logout()
    client.login(moderator)
    client.post(
        f"/agenda/{items[0].id}/status",
        data={"status": "in_progress", "note": "A workshop took it on."},
    )
    db.session.refresh(items[0])
    assert items[0].status == AgendaStatus.IN_PROGRESS
    notes = db.session.scalars(
        select(AgendaStatusChange.note).where(AgendaStatusChange.item_id == items[0].id)
    ).all()
    assert notes == ["", "A workshop took it on."]
    assert "A workshop took it on." in client.get(f"/agenda/{items[0].id}").get_data(as_text=True)


def test_round_state_follows_the_clock_without_any_job(moderator, items):
    upcoming = make_round(moderator, items, opens_in=timedelta(hours=1))
    open_ = make_round(moderator, items)
    assert voting.round_state(upcoming) == "upcoming"
    assert voting.round_state(open_) == "open"
    assert voting.round_state(open_, now=open_.closes_at) == "closed"
    assert {i.status for i in items} == {AgendaStatus.ON_BALLOT}


# --- Ballot rules ---------------------------------------------------------------------------


def test_budget_ballot_keeps_budget_and_cap_and_a_rejected_ballot_changes_nothing(
    member, moderator, items
):
    round_ = make_round(moderator, items, method="budget", budget=10, per_item_cap=5)
    a, b, c = (i.id for i in items)
    voting.cast_ballot(member, round_, entries={a: 5, b: 5})
    with pytest.raises(voting.BallotRejected, match="You spread 11 points but have 10."):
        voting.cast_ballot(member, round_, entries={a: 5, b: 5, c: 1})
    with pytest.raises(voting.BallotRejected, match="At most 5 points may go to one item."):
        voting.cast_ballot(member, round_, entries={a: 6})
    with pytest.raises(voting.BallotRejected, match="Item 999 is not on this ballot."):
        voting.cast_ballot(member, round_, entries={999: 1})
    ballot = voting.my_ballot(member, round_)
    assert {e.item_id: e.value for e in ballot.entries} == {a: 5, b: 5}


def test_quadratic_votes_cost_their_square(member, moderator, items):
    round_ = make_round(moderator, items, method="quadratic", credits=20)
    a, b, c = (i.id for i in items)
    voting.cast_ballot(member, round_, entries={a: 3, b: 3})  # 9 + 9 = 18 credits
    with pytest.raises(voting.BallotRejected, match="These votes cost 27 credits but you have 20."):
        voting.cast_ballot(member, round_, entries={a: 3, b: 3, c: 3})


def test_ranked_ballots_are_a_strict_order(member, moderator, items):
    round_ = make_round(moderator, items, method="ranked")
    a, b, c = (i.id for i in items)
    voting.cast_ballot(member, round_, entries={b: 1, a: 2})
    with pytest.raises(voting.BallotRejected, match="order must be strict"):
        voting.cast_ballot(member, round_, entries={a: 1, b: 1})
    with pytest.raises(voting.BallotRejected, match="without gaps"):
        voting.cast_ballot(member, round_, entries={a: 1, c: 3})


def test_approval_is_yes_or_no(member, moderator, items):
    round_ = make_round(moderator, items, method="approval")
    with pytest.raises(voting.BallotRejected, match="yes or no"):
        voting.cast_ballot(member, round_, entries={items[0].id: 2})


def test_voting_one_second_after_closing_is_refused(client, member, moderator, items):
    round_ = make_round(moderator, items, method="approval")
    round_.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    client.login(member)
    response = client.post(f"/rounds/{round_.id}/ballot", data={f"item-{items[0].id}": "1"})
    assert response.status_code == 403 and "This round is closed." in response.get_data(
        as_text=True
    )
    assert db.session.scalar(select(Ballot)) is None


def test_the_deadline_is_checked_again_inside_the_voting_transaction(member, moderator, items):
    round_ = make_round(moderator, items, method="approval")
    one_second_late = round_.closes_at + timedelta(seconds=1)
    with pytest.raises(voting.BallotRejected, match="not open for voting"):
        voting.cast_ballot(member, round_, entries={items[0].id: 1}, now=one_second_late)
    assert db.session.scalar(select(Ballot)) is None


def test_suspended_members_and_visitors_cannot_vote(client, member, moderator, items):
    from forum.models import UserState

    round_ = make_round(moderator, items, method="approval")
    response = client.post(f"/rounds/{round_.id}/ballot", data={f"item-{items[0].id}": "1"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    member.state = UserState.SUSPENDED
    db.session.commit()
    client.login(member)
    response = client.post(f"/rounds/{round_.id}/ballot", data={f"item-{items[0].id}": "1"})
    assert response.status_code == 403


def test_a_round_can_exclude_members_who_joined_after_it_opened(client, moderator, items):
    round_ = make_round(
        moderator,
        items,
        method="approval",
        late_joiners_may_vote=False,
        opens_in=timedelta(minutes=-10),
    )
    newcomer = make_user()
    client.login(newcomer)
    response = client.post(f"/rounds/{round_.id}/ballot", data={f"item-{items[0].id}": "1"})
    assert response.status_code == 403
    assert "joined before this round opened" in response.get_data(as_text=True)


def test_typed_ballot_with_an_error_is_shown_again_with_the_message(
    client, member, moderator, items
):
    round_ = make_round(moderator, items, method="budget")
    client.login(member)
    form = {f"item-{items[0].id}": "5", f"item-{items[1].id}": "9"}
    response = client.post(f"/rounds/{round_.id}/ballot", data=form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "At most 5 points may go to one item." in page and 'value="9"' in page


def test_member_changes_their_ballot_until_the_deadline_and_gets_a_receipt(
    client, member, moderator, items
):
    round_ = make_round(moderator, items, method="budget")
    client.login(member)
    client.post(f"/rounds/{round_.id}/ballot", data={f"item-{items[0].id}": "5"})
    first = db.session.scalar(select(Ballot)).receipt
    client.post(f"/rounds/{round_.id}/ballot", data={f"item-{items[1].id}": "4"})
    ballot = db.session.scalar(select(Ballot))
    assert {e.item_id: e.value for e in ballot.entries} == {items[1].id: 4}
    assert ballot.receipt != first
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 1
    assert ballot.receipt in client.get(f"/rounds/{round_.id}").get_data(as_text=True)


def test_running_tally_is_hidden_unless_the_round_shows_it(client, member, moderator, items):
    hidden = make_round(moderator, items, method="approval")
    shown = make_round(moderator, items, method="approval", show_running_tally=True)
    for r in (hidden, shown):
        voting.cast_ballot(member, r, entries={items[0].id: 1})
    assert "Running tally" not in client.get(f"/rounds/{hidden.id}").get_data(as_text=True)
    assert "Running tally" in client.get(f"/rounds/{shown.id}").get_data(as_text=True)


# --- Results --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "ballots"),
    [
        ("approval", [{0: 1, 1: 1}, {0: 1}, {2: 1}]),
        ("budget", [{0: 5, 1: 5}, {1: 4, 2: 2}, {2: 5, 0: 1}]),
        ("quadratic", [{0: 3, 1: 4}, {1: 2}, {2: 9}]),
        ("ranked", [{0: 1, 1: 2, 2: 3}, {1: 1, 0: 2}, {2: 1, 1: 2, 0: 3}]),
    ],
)
def test_tally_on_the_exported_csv_reproduces_the_published_result(
    runner, moderator, items, method, ballots, tmp_path
):
    round_ = make_round(moderator, items, method=method)
    for values in ballots:
        voting.cast_ballot(make_user(), round_, entries={items[k].id: v for k, v in values.items()})
    round_ = close(round_)
    csv_path = tmp_path / "ballots.csv"
    csv_path.write_text(round_files.export_ballots(round_))
    args = ["tally", "--method", method, "--json", str(csv_path)]
    if method == "budget":
        args[3:3] = ["--budget", "10", "--cap", "5"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    import json

    assert json.loads(result.output)["order"] == round_.results["order"]
    check = runner.invoke(args=["verify-round", str(round_.id), str(csv_path)])
    assert check.exit_code == 0 and "reproduce the published result" in check.output


def test_verify_round_refuses_a_ballot_file_with_one_changed_line(
    runner, moderator, items, tmp_path
):
    round_ = make_round(moderator, items, method="approval")
    for chosen in ([0], [0], [0, 1], [1], [2]):
        voting.cast_ballot(make_user(), round_, entries={items[k].id: 1 for k in chosen})
    round_ = close(round_)
    lines = round_files.export_ballots(round_).splitlines()
    # Move one approval from the first item to the third: one line changes, its receipt does not.
    target = next(i for i, line in enumerate(lines) if f",{items[0].id},1," in line)
    changed = list(lines)
    changed[target] = lines[target].replace(f",{items[0].id},1,", f",{items[2].id},1,")
    forged = tmp_path / "forged.csv"
    forged.write_text("\n".join(changed) + "\n")
    result = runner.invoke(args=["verify-round", str(round_.id), str(forged)])
    assert result.exit_code == 1
    assert f"line {target + 1}: the receipt of ballot" in result.output
    assert "Traceback" not in result.output


def test_a_members_receipt_is_found_in_the_export(member, moderator, items):
    from forum import tally

    round_ = make_round(moderator, items, method="budget")
    ballot = voting.cast_ballot(member, round_, entries={items[0].id: 3, items[2].id: 2})
    receipt = ballot.receipt
    round_ = close(round_)
    assert (
        receipt
        in tally.receipts_in(tally.read_ballots(round_files.export_ballots(round_))).values()
    )


def test_export_has_random_ballot_ids_and_no_member_ids(member, moderator, items):
    round_ = make_round(moderator, items, method="approval")
    voting.cast_ballot(member, round_, entries={items[0].id: 1})
    round_ = close(round_)
    csv_text = round_files.export_ballots(round_)
    assert csv_text.splitlines()[0] == "round_id,ballot_id,item_id,value,receipt"
    assert member.email not in csv_text
    ballot_ids = {line.split(",")[1] for line in csv_text.splitlines()[1:]}
    assert len(ballot_ids) == 1 and str(member.id) not in ballot_ids


def test_malformed_ballot_file_gets_an_error_naming_the_line(runner, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("ballot_id,item_id,value\nb1,1,1\nb2,x,1\n")
    result = runner.invoke(args=["tally", "--method", "approval", str(bad)])
    assert result.exit_code != 0 and "line 3" in result.output


def test_closing_twice_at_once_publishes_once(moderator, items, member):
    round_ = make_round(moderator, items, method="approval")
    voting.cast_ballot(member, round_, entries={items[0].id: 1})
    round_.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    first = round_results.close_due_rounds()
    second = round_results.close_due_rounds()
    assert len(first) == 1 and second == []
    assert db.session.scalar(select(func.count()).select_from(RoundResult)) == 3


def test_results_page_shows_table_chart_participation_and_rank_changes(
    client, member, moderator, items
):
    first = make_round(moderator, items, method="approval", title="Spring round")
    voting.cast_ballot(member, first, entries={items[2].id: 1})
    close(first)
    second = make_round(moderator, items, method="approval", title="Autumn round")
    voting.cast_ballot(member, second, entries={items[0].id: 1})
    voting.cast_ballot(moderator, second, entries={items[0].id: 1, items[1].id: 1})
    second = close(second)
    page = client.get(f"/rounds/{second.id}").get_data(as_text=True)
    assert "<svg" in page and 'role="img"' in page
    assert "2 of 2 eligible members voted." in page
    assert "▲ 1" in page  # the first item rose from second (a tie, broken by id) to first
    assert "Download the anonymised ballots (CSV)" in page
    overview = client.get("/agenda").get_data(as_text=True)
    assert overview.index("Membership inference on clinical") < overview.index("Jailbreak transfer")


def test_institution_cap_limits_one_institutions_share_and_says_where(moderator, items):
    round_ = make_round(moderator, items, method="budget", institution_share=0.5)
    a, b = items[0].id, items[1].id
    for _ in range(3):
        voting.cast_ballot(make_user(affiliation="Big University"), round_, entries={a: 5})
    voting.cast_ballot(make_user(affiliation="Small College"), round_, entries={a: 1, b: 5})
    round_ = close(round_)
    from forum import tally

    pseudonyms = tally.read_ballot_file(round_files.export_ballots(round_)).institutions
    big_university = institutions.find_institution("Big University")
    ids = db.session.scalars(
        select(Ballot.public_id).where(Ballot.institution == f"inst-{big_university.id}")
    )
    big = {pseudonyms[public_id] for public_id in ids}
    assert len(big) == 1 and round_.results["capped"].get(str(a)) == sorted(big)
    scores = {int(k): v for k, v in round_.results["scores"].items()}
    assert scores[a] == pytest.approx(2.0)  # Big University capped to equal the others' 1 point
    # An item backed by one institution alone counts for nothing: no institution sets the agenda.
    small = round_.results["capped"].get(str(b))
    assert scores[b] == 0 and small and small != sorted(big)


def test_many_members_voting_at_the_same_moment_get_exact_tallies(app, backend, moderator, items):
    voters = [make_user() for _ in range(200 if backend == "postgresql" else 30)]
    round_ = make_round(moderator, items, method="budget")
    round_id, ids = round_.id, [i.id for i in items]
    voter_ids = [v.id for v in voters]
    # Everyone starts together; each then takes a connection from the pool (no thread holds one
    # while waiting at the barrier, or the pool would run dry and the barrier never open).
    start = threading.Barrier(len(voter_ids), timeout=60)
    errors = []

    def vote(user_id: int, n: int) -> None:
        with app.app_context():
            try:
                start.wait()
                user = db.session.get(User, user_id)
                r = voting.get_round(round_id)
                voting.cast_ballot(user, r, entries={ids[n % 3]: 3, ids[(n + 1) % 3]: 2})
            except Exception as error:  # collected and reported below
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=vote, args=(uid, n)) for n, uid in enumerate(voter_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == len(voter_ids)
    result = round_files.compute_result(voting.get_round(round_id))
    expected = {i: 0 for i in ids}
    for n in range(len(voter_ids)):
        expected[ids[n % 3]] += 3
        expected[ids[(n + 1) % 3]] += 2
    assert result.scores == expected


def _round_form(items, *, opens_at: str, closes_at: str, timezone: str = "UTC") -> dict:
    return {
        "title": "Spring priorities",
        "description": "Description kept.",
        "opens_at": opens_at,
        "closes_at": closes_at,
        "timezone": timezone,
        "method": "budget",
        "items": [str(i.id) for i in items],
        "budget": "10",
        "per_item_cap": "5",
        "credits": "100",
    }


def test_a_round_closing_in_the_past_is_refused_at_the_field_and_nothing_is_set_up(
    client, moderator, items
):
    client.login(moderator)
    rounds_before = db.session.scalar(select(func.count()).select_from(VotingRound))
    an_hour_ago = utcnow() - timedelta(hours=1)
    response = client.post(
        "/rounds/new",
        data=_round_form(
            items,
            opens_at=(an_hour_ago - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
            closes_at=an_hour_ago.strftime("%Y-%m-%dT%H:%M"),
        ),
    )
    assert response.status_code == 400
    assert "already passed" in field_error(response, "closes_at")
    assert "Description kept.</textarea>" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(VotingRound)) == rounds_before


def test_the_closing_time_is_judged_in_the_time_zone_the_form_gives(client, moderator, items):
    """Half an hour from now in Tokyo is written as a local time 9 hours ahead of UTC: the
    same wall-clock figures in UTC would be in the past once read as Tokyo's."""
    client.login(moderator)
    tokyo_soon = (utcnow() + timedelta(hours=9, minutes=30)).strftime("%Y-%m-%dT%H:%M")
    later_utc = (utcnow() + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M")
    refused = client.post(
        "/rounds/new",
        data=_round_form(
            items, opens_at="2020-01-01T09:00", closes_at=later_utc, timezone="Asia/Tokyo"
        ),
    )
    assert refused.status_code == 400
    assert "already passed" in field_error(refused, "closes_at")
    accepted = client.post(
        "/rounds/new",
        data=_round_form(
            items, opens_at="2020-01-01T09:00", closes_at=tokyo_soon, timezone="Asia/Tokyo"
        ),
    )
    assert accepted.status_code == 302


def test_the_service_refuses_a_round_that_would_already_be_closed(moderator, items):
    with pytest.raises(agenda.AgendaError, match="already passed"):
        voting.create_round(
            moderator,
            voting.RoundDraft(
                title="Too late",
                description="",
                opens_at=utcnow() - timedelta(days=3),
                closes_at=utcnow() - timedelta(seconds=1),
                timezone="UTC",
                method=VotingMethod.BUDGET,
                item_ids=[i.id for i in items],
            ),
        )
