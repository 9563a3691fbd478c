"""Checking a published round from its files alone (issue 14): a visitor downloads the ballots,
runs the command the round's page prints and gets the page's scores and order; verify-round
checks every published figure and names the first that a changed file no longer reproduces;
a voter finds their ballot by the receipt the page showed them."""

import csv
import hashlib
import html
import io
import json
import re
import shlex
import threading
import urllib.parse
import urllib.request
from datetime import timedelta

import pytest
from sqlalchemy import select

from forum import tally
from forum.extensions import db
from forum.models import AuditEntry, Ballot, BallotEntry
from forum.models.types import utcnow
from forum.services import round_files, round_results, voting
from tests.factories import make_agenda_item, make_round, make_user
from tests.test_answers_and_votes import _logged_in_opener

# Ballots by position on a five-item ballot (0 = the first item), per method. Ranked: item 2
# beats item 3 by a wide margin, so turning one 1>3>2>4>5 into 1>2>3>4>5 alters the pairwise
# matrix and nothing else.
BALLOTS = {
    "approval": [{0: 1, 1: 1}, {0: 1}, {2: 1}, {1: 1, 3: 1}, {0: 1, 4: 1}],
    "budget": [{0: 5, 1: 5}, {1: 4, 2: 3}, {2: 5, 0: 1}, {3: 2}, {4: 3, 0: 3}],
    "quadratic": [{0: 3, 1: 4}, {1: 2}, {2: 9}, {3: 5, 4: 5}, {0: 1}],
    "ranked": [
        {0: 1, 2: 2, 1: 3, 3: 4, 4: 5},  # 1>3>2>4>5, the ballot the forger changes
        {0: 1, 1: 2, 2: 3, 3: 4, 4: 5},
        {1: 1, 0: 2, 2: 3},
        {1: 1, 2: 2, 0: 3, 4: 4},
        {0: 1, 1: 2, 3: 3},
        {3: 1, 1: 2, 4: 3},
    ],
}
CAPPED = [  # (institution, ballot): one institution piles onto the first item
    ("Big University", {0: 1}),
    ("Big University", {0: 1}),
    ("Big University", {0: 1, 1: 1}),
    ("Small College", {0: 1, 2: 1}),
    ("Another Institute", {1: 1}),
    ("", {0: 1, 3: 1}),
]


@pytest.fixture
def items(member):
    return [make_agenda_item(member, title=f"Open question {n}") for n in range(1, 6)]


def close(round_):
    round_.closes_at = utcnow() - timedelta(seconds=1)
    round_.opens_at = min(round_.opens_at, round_.closes_at - timedelta(hours=1))
    db.session.commit()
    round_results.close_due_rounds()
    return voting.get_round(round_.id)


def closed_round(moderator, items, method: str, **overrides):
    round_ = make_round(moderator, items, method=method, **overrides)
    if overrides.get("institution_share"):
        for institution, ballot in CAPPED:
            voter = make_user(affiliation=institution)
            voting.cast_ballot(voter, round_, entries={items[k].id: v for k, v in ballot.items()})
    else:
        for ballot in BALLOTS[method]:
            voting.cast_ballot(
                make_user(), round_, entries={items[k].id: v for k, v in ballot.items()}
            )
    return close(round_)


def page_of(client, round_) -> str:
    response = client.get(f"/rounds/{round_.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def code(page: str, css_class: str) -> str:
    found = re.search(rf'<code class="{css_class}">(.*?)</code>', page, re.S)
    assert found, f"no {css_class} on the page"
    return html.unescape(found.group(1))


def page_results(page: str) -> list[tuple[int, str]]:
    """(item id, score as shown) for each row of the results table, first to last."""
    rows = re.findall(
        r'href="/agenda/(\d+)">[^<]*</a>.*?<td class="score">([^<]*)</td>', page, re.S
    )
    assert rows, "no results table"
    return [(int(item), score) for item, score in rows]


def run_page_command(runner, command: str, folder):
    """Run a command exactly as the page prints it, in the folder holding the downloads."""
    words = shlex.split(command)
    assert words[:3] == ["flask", "--app", "forum"]
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        return runner.invoke(args=words[3:])


def tally_lines(result) -> list[tuple[int, str]]:
    """(item id, score) for each line `flask tally` printed, first to last."""
    assert result.exit_code == 0, result.output
    lines = re.findall(r"^\s*\d+\. item (\d+): (\S+)$", result.output, re.M)
    return [(int(item), score) for item, score in lines]


def download(client, round_, folder) -> tuple[str, object, object]:
    """The ballot and results files as a visitor downloads them, saved under the names the
    server gives them: (the ballots' text, the ballot file's path, the results' path)."""
    paths = []
    for url in (f"/rounds/{round_.id}/ballots.csv", f"/rounds/{round_.id}/results.json"):
        response = client.get(url)
        assert response.status_code == 200
        name = response.headers["Content-Disposition"].split("filename=")[1]
        paths.append(folder / name)
        paths[-1].write_bytes(response.data)
    return paths[0].read_text(), paths[0], paths[1]


def forged(text: str, change) -> str:
    """The ballot file with ``change(row)`` applied to its rows, receipts made to match again
    (a forger can recompute them: only a voter holding theirs can tell)."""
    reader = csv.DictReader(io.StringIO(text))
    rows = [dict(row) for row in reader]
    for row in rows:
        change(row)
    entries: dict[str, dict[int, int]] = {}
    for row in rows:
        entries.setdefault(row["ballot_id"], {})[int(row["item_id"])] = int(row["value"])
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=reader.fieldnames, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        row["receipt"] = tally.receipt(row["ballot_id"], entries[row["ballot_id"]])
        writer.writerow(row)
    return out.getvalue()


def ballot_lines(text: str) -> dict[str, dict[int, int]]:
    found: dict[str, dict[int, int]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        found.setdefault(row["ballot_id"], {})[int(row["item_id"])] = int(row["value"])
    return found


def verify(runner, *args):
    return runner.invoke(args=["verify-round", *map(str, args)])


# --- Each method: the page's command reproduces the page; verify-round checks every figure -----


CASES = {
    "approval": {"method": "approval"},
    "budget": {"method": "budget", "budget": 10, "per_item_cap": 5},
    "quadratic": {"method": "quadratic", "credits": 100},
    "ranked": {"method": "ranked"},
    "approval with a cap": {"method": "approval", "institution_share": 0.25},
}


@pytest.mark.parametrize("case", CASES)
def test_a_visitor_recomputes_the_page_from_the_downloaded_file_with_the_printed_command(
    client, runner, moderator, items, case, tmp_path
):
    overrides = dict(CASES[case])
    round_ = closed_round(moderator, items, overrides.pop("method"), **overrides)
    page = page_of(client, round_)
    text, ballots_path, results_path = download(client, round_, tmp_path)

    recomputed = run_page_command(runner, code(page, "tally-command"), tmp_path)
    assert tally_lines(recomputed) == page_results(page)
    assert verify(runner, round_.id, ballots_path).exit_code == 0
    offline = run_page_command(runner, code(page, "verify-command"), tmp_path)
    assert offline.exit_code == 0 and "reproduce the published result" in offline.output


def test_a_capped_round_shows_the_capped_score_the_cli_gives_and_hides_institution_names(
    client, runner, moderator, items, tmp_path
):
    round_ = closed_round(moderator, items, "approval", institution_share=0.25)
    page = page_of(client, round_)
    text, ballots_path, _results = download(client, round_, tmp_path)
    command = code(page, "tally-command")
    assert "--cap-share 0.25" in command and "--items" in command
    first_item_score = dict(page_results(page))[items[0].id]
    assert first_item_score != "5"  # 5 approvals, 3 from one institution: the cap bit
    recomputed = tally_lines(run_page_command(runner, command, tmp_path))
    assert dict(recomputed)[items[0].id] == first_item_score
    header = text.splitlines()[0]
    assert header == "round_id,ballot_id,item_id,value,receipt,institution"
    for name in ("Big University", "Small College", "Another Institute"):
        assert name not in text
    pseudonyms = {row["institution"] for row in csv.DictReader(io.StringIO(text))}
    assert pseudonyms == {"I1", "I2", "I3", ""}
    assert "which ballots of this round share an institution" in html.unescape(page)
    assert "unrelated pseudonym in other rounds" in html.unescape(page)


def test_institution_pseudonyms_follow_neither_names_nor_rounds(app):
    names = {f"b{n}": f"Institution {n:02d}" for n in range(12)}
    first = round_files.institution_pseudonyms(1, names)
    second = round_files.institution_pseudonyms(2, names)
    assert sorted(set(first.values()), key=lambda p: int(p[1:])) == [f"I{n}" for n in range(1, 13)]
    by_name = [first[ballot] for ballot in sorted(names, key=names.get)]
    assert by_name != [f"I{n}" for n in range(1, 13)]  # not alphabetical
    assert first != second  # another round, other numbers
    assert round_files.institution_pseudonyms(1, names) == first  # stable


def forgery(case: str, text: str, ids: list[int], published: dict):
    """(change to one ballot's rows, what the first difference must say) for each case."""
    ballots = ballot_lines(text)

    def ballot_giving(entries):
        return next(ballot for ballot, given in ballots.items() if given == entries)

    if case == "ranked":  # 1>3>2>4>5 becomes 1>2>3>4>5: order and scores stay, cells move
        victim = ballot_giving({ids[0]: 1, ids[2]: 2, ids[1]: 3, ids[3]: 4, ids[4]: 5})
        swap = {str(ids[1]): "2", str(ids[2]): "3"}

        def change(row):
            if row["ballot_id"] == victim and row["item_id"] in swap:
                row["value"] = swap[row["item_id"]]

        cell = published["pairwise"][str(ids[1])][str(ids[2])]
        return change, f"pairwise of item {ids[1]} over item {ids[2]}: published {cell}, "
    if case == "approval with a cap":  # a ballot leaves its institution: no receipt changes
        rows = list(csv.DictReader(io.StringIO(text)))
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["institution"]] = counts.get(row["institution"], 0) + 1
        big = max((name for name in counts if name), key=counts.get)
        victim = next(
            ballot
            for ballot, given in ballots.items()
            if given == {ids[0]: 1}
            and any(r["ballot_id"] == ballot and r["institution"] == big for r in rows)
        )

        def change(row):
            if row["ballot_id"] == victim:
                row["institution"] = ""

        return change, f"score of item {ids[0]}: published "
    method = case  # a ballot giving the first item something changes one line
    victim = ballot_giving(
        {ids[k]: v for k, v in BALLOTS[method][1 if method == "approval" else 4].items()}
    )

    def change(row):  # one line: an approval moves to another item, or a value drops by one
        if row["ballot_id"] == victim and row["item_id"] == str(ids[0]):
            if method == "approval":
                row["item_id"] = str(ids[3])
            else:
                row["value"] = str(int(row["value"]) - 1)

    score = tally.score_text(published["scores"][str(ids[0])])
    return change, f"score of item {ids[0]}: published {score}, recomputed "


@pytest.mark.parametrize("case", CASES)
def test_verify_round_names_the_first_figure_a_changed_file_no_longer_reproduces(
    client, runner, moderator, items, case, tmp_path
):
    overrides = dict(CASES[case])
    round_ = closed_round(moderator, items, overrides.pop("method"), **overrides)
    text, _ballots, results_path = download(client, round_, tmp_path)
    published = json.loads(results_path.read_text())
    change, expected = forgery(case, text, [item.id for item in items], published)
    changed = forged(text, change)
    differing = [
        (a, b)
        for a, b in zip(text.splitlines(), changed.splitlines(), strict=True)
        if a.split(",")[:4] != b.split(",")[:4] or a.split(",")[5:] != b.split(",")[5:]
    ]  # lines that differ in more than the receipt column
    assert len(differing) == (2 if case == "ranked" else 1)
    path = tmp_path / "changed.csv"
    path.write_text(changed)
    for result in (
        verify(runner, round_.id, path),
        verify(runner, "--file", path, "--results", results_path),
    ):
        assert result.exit_code == 1, result.output
        assert result.output.startswith("MISMATCH: " + expected), result.output


@pytest.mark.parametrize("case", CASES)
def test_another_rounds_file_is_refused_with_a_message(
    client, runner, member, moderator, items, case, tmp_path
):
    overrides = dict(CASES[case])
    method = overrides.pop("method")
    first = closed_round(moderator, items, method, **overrides)
    other_items = [make_agenda_item(member) for _ in items]  # another ballot altogether
    second = closed_round(moderator, other_items, method, **overrides)
    (folder_a := tmp_path / "a").mkdir()
    (folder_b := tmp_path / "b").mkdir()
    _text, first_file, _first_results = download(client, first, folder_a)
    _text, _second_file, second_results = download(client, second, folder_b)
    for result in (
        verify(runner, second.id, first_file),
        verify(runner, "--file", first_file, "--results", second_results),
    ):
        assert result.exit_code == 1
        assert f"This file holds the ballots of round {first.id}, not of round {second.id}" in (
            result.output
        )
        assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    ("contents", "message"),
    [
        ("hello\n", "line 1: expected the header"),
        ("round_id,ballot_id,item_id,value,receipt\n1,b1,x,1,00\n", "line 2: item_id must be"),
        (b"\xff\xfe\x00garbage", "is not a UTF-8 text file"),
    ],
)
def test_a_malformed_file_gets_a_message_and_no_traceback(
    client, runner, moderator, items, contents, message, tmp_path
):
    round_ = closed_round(moderator, items, "approval")
    _text, _ballots, results_path = download(client, round_, tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(contents if isinstance(contents, bytes) else contents.encode())
    result = verify(runner, round_.id, bad)
    assert result.exit_code != 0 and message in result.output, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    not_json = tmp_path / "results.json"
    not_json.write_text("{not json")
    _text, good, _ = download(client, round_, tmp_path)
    result = verify(runner, "--file", good, "--results", not_json)
    assert result.exit_code == 1 and "not JSON" in result.output


def test_the_close_entry_in_the_audit_log_records_the_hashes_of_both_files(
    client, moderator, items, tmp_path
):
    round_ = closed_round(moderator, items, "quadratic")
    page = page_of(client, round_)
    text, ballots_path, results_path = download(client, round_, tmp_path)
    ballots_hash = hashlib.sha256(ballots_path.read_bytes()).hexdigest()
    results_hash = hashlib.sha256(results_path.read_bytes()).hexdigest()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "round.close"))
    details = json.loads(entry.public_details)
    assert details["ballots_sha256"] == ballots_hash and details["results_sha256"] == results_hash
    assert f'class="ballots-sha256">{ballots_hash}<' in page
    assert f'class="results-sha256">{results_hash}<' in page
    published = json.loads(results_path.read_text())
    assert published["round_id"] == round_.id and published["method"] == "quadratic"
    assert published["parameters"] == {"credits": 100}


# --- Receipts ----------------------------------------------------------------------------------


def test_a_voter_finds_the_receipt_the_page_showed_in_the_downloaded_file(
    app, client, runner, member, moderator, items, tmp_path
):
    round_ = make_round(moderator, items, method="budget")
    client.login(member)
    response = client.post(
        f"/rounds/{round_.id}/ballot", data={f"item-{items[0].id}": "3", f"item-{items[2].id}": "2"}
    )
    assert response.status_code == 302
    shown = re.search(
        r'Your receipt: <code dir="ltr">([0-9a-f]{64})</code>', page_of(client, round_)
    )
    receipt = shown.group(1)
    for ballot in BALLOTS["budget"]:
        voting.cast_ballot(make_user(), round_, entries={items[k].id: v for k, v in ballot.items()})
    round_ = close(round_)
    page = page_of(client, round_)
    command = html.unescape(
        re.search(r"<code>(flask --app forum tally --receipt [^<]+)</code>", page).group(1)
    )
    assert receipt in command
    client.logout()
    _text, ballots_path, _results = download(client, round_, tmp_path)
    found = run_page_command(runner, command, tmp_path)
    assert found.exit_code == 0, found.output
    assert f"item {items[0].id}: 3, item {items[2].id}: 2" in found.output
    missing = runner.invoke(args=["tally", "--receipt", "0" * 64, str(ballots_path)])
    assert missing.exit_code == 1 and "NOT in this file" in missing.output


def test_tally_names_the_line_whose_receipt_does_not_match_its_entries(runner, tmp_path):
    good = tally.receipt("b1", {3: 2, 4: 1})
    path = tmp_path / "ballots.csv"
    path.write_text(
        "round_id,ballot_id,item_id,value,receipt\n"
        f"7,b1,3,2,{good}\n7,b1,4,1,{good}\n"
        f"7,b2,3,1,{tally.receipt('b2', {3: 1})}\n"
        f"7,b3,4,2,{tally.receipt('b3', {4: 1})}\n"
    )
    result = runner.invoke(args=["tally", "--method", "budget", str(path)])
    assert result.exit_code == 1
    assert "line 5: the receipt of ballot b3 does not match its entries" in result.output


# --- The race ----------------------------------------------------------------------------------


def test_a_members_two_ballots_at_the_same_moment_leave_a_receipt_matching_the_saved_ballot(
    app, live_server, member, moderator, items
):
    round_ = make_round(moderator, items, method="approval")
    url = f"{live_server}/rounds/{round_.id}/ballot"
    ballots = [{items[0].id: 1}, {items[1].id: 1, items[2].id: 1}]
    senders = [_logged_in_opener(live_server, member.email) for _ in ballots]
    wrong = []
    for attempt in range(40):
        start = threading.Barrier(len(senders), timeout=30)
        errors = []

        def send(opener, token, entries, start=start, errors=errors):
            data = {"csrf_token": token, **{f"item-{item}": str(v) for item, v in entries.items()}}
            start.wait()
            try:
                opener.open(url, data=urllib.parse.urlencode(data).encode()).read()
            except Exception as error:  # reported below
                errors.append(repr(error))

        threads = [
            threading.Thread(target=send, args=(*sender, entries))
            for sender, entries in zip(senders, ballots, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        db.session.commit()
        ballot = db.session.scalar(
            select(Ballot)
            .where(Ballot.round_id == round_.id, Ballot.user_id == member.id)
            .execution_options(populate_existing=True)
        )
        saved = dict(
            db.session.execute(
                select(BallotEntry.item_id, BallotEntry.value).where(
                    BallotEntry.ballot_id == ballot.id
                )
            ).all()
        )
        if ballot.receipt != tally.receipt(ballot.public_id, saved):
            wrong.append(attempt)
    assert wrong == []


def test_an_empty_ballot_is_in_the_file_counts_in_the_turnout_and_its_receipt_is_found(
    client, runner, member, moderator, items, tmp_path
):
    round_ = make_round(moderator, items, method="approval")
    receipt = voting.cast_ballot(member, round_, entries={items[0].id: 0}).receipt
    for ballot in BALLOTS["approval"]:
        voting.cast_ballot(make_user(), round_, entries={items[k].id: v for k, v in ballot.items()})
    round_ = close(round_)
    assert "6 of" in page_of(client, round_)  # six voters, one of whom approved nothing
    text, ballots_path, results_path = download(client, round_, tmp_path)
    found = runner.invoke(args=["tally", "--receipt", receipt, str(ballots_path)])
    assert found.exit_code == 0 and "gives nothing" in found.output, found.output
    assert verify(runner, round_.id, ballots_path).exit_code == 0
    empty_line = next(line for line in text.splitlines() if receipt in line)
    assert empty_line.split(",")[2:4] == ["", ""]
    without = tmp_path / "without-the-empty-ballot.csv"
    without.write_text("".join(line + "\n" for line in text.splitlines() if line != empty_line))
    result = verify(runner, "--file", without, "--results", results_path)
    assert result.exit_code == 1
    assert result.output.startswith("MISMATCH: turnout (voters): published 6, recomputed 5")


def test_anyone_can_recompute_a_receipt_as_the_readme_says():
    # README, "Ballot files and receipts": sha256 of the ballot_id and "item_id,value" lines
    documented = hashlib.sha256(b"a1b2\n3,2\n12,1\n").hexdigest()
    assert tally.receipt("a1b2", {12: 1, 3: 2}) == documented
