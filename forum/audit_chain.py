"""The audit log's hash chain with no Flask and no database: an entry's public form and its hash,
the commitment to its private part, checking a chain, and reading a downloaded log.

Each entry has a *public form*, the JSON object anyone may read (and download as one line of
``/moderation/log.jsonl``)::

    {"action": "post.hide", "actor": "Mo Moderator", "data": {}, "moment": "2026-...+00:00",
     "prev_hash": "<64 hex>", "private": "<64 hex>", "seq": 7,
     "target": {"id": 13, "type": "post"}}

Its ``hash`` is the SHA-256 (hex) of that object serialised by ``canonical_json`` (keys sorted,
no spaces, UTF-8), and ``prev_hash`` is the hash of the entry before (64 zeros for the first),
so anyone holding a download can recompute the whole chain. What must stay private (who acted
when that is a member, whom a warning was for, a reason, the text of a warning) is not in the
public form: ``private`` is a salted SHA-256 commitment to it, which the operators' check
(``flask verify-audit`` on the database) recomputes. See README, "The audit log".
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

HASH_LENGTH = 64  # hex digits of a SHA-256
GENESIS_HASH = "0" * HASH_LENGTH  # the prev_hash of the first entry
PUBLIC_KEYS = frozenset(
    {"seq", "moment", "action", "target", "actor", "data", "private", "prev_hash"}
)
_HEX_HASH = re.compile(r"[0-9a-f]{64}")


def canonical_json(value: Any) -> str:
    """The one serialisation the hashes and the stored details use: sorted keys, no spaces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def utc_iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; use datetime.now(UTC)")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def is_hash(value: Any) -> bool:
    return isinstance(value, str) and _HEX_HASH.fullmatch(value) is not None


def public_form(
    *,
    seq: int,
    created_at: datetime,
    action: str,
    target_type: str,
    target_id: int | None,
    actor: str | None,
    data: Mapping,
    private: str,
    prev_hash: str,
) -> dict:
    """An entry's public form: exactly what its hash covers (``target_id`` and ``actor`` are
    the published ones: None where they are withheld)."""
    return {
        "seq": seq,
        "moment": utc_iso(created_at),
        "action": action,
        "target": {"type": target_type, "id": target_id},
        "actor": actor,
        "data": dict(data),
        "private": private,
        "prev_hash": prev_hash,
    }


def form_hash(form: Mapping) -> str:
    """The hash of a public form (a dict with PUBLIC_KEYS; any ``hash`` key is left out)."""
    return sha256_hex(canonical_json({k: v for k, v in form.items() if k != "hash"}))


def commitment(
    *,
    salt: str,
    actor_id: int | None,
    actor_name: str,
    target_id: int | None,
    reason: str,
    private_details: Mapping,
) -> str:
    """The salted SHA-256 of an entry's private part: the salt (random, never published) keeps
    anyone from confirming a guess such as "was it member 12 who was warned?"."""
    return sha256_hex(
        canonical_json(
            {
                "salt": salt,
                "actor_id": actor_id,
                "actor_name": actor_name,
                "target_id": target_id,
                "reason": reason,
                "details": dict(private_details),
            }
        )
    )


# --- Checking a chain ---------------------------------------------------------------------------


@dataclass
class Verification:
    ok: bool
    checked: int  # entries found intact and in place, before the first problem if any
    first_bad_seq: int | None
    problem: str  # one English sentence for operators; "" when ok
    # The hash of the last intact entry (the newest when ok): to note down and compare later.
    last_hash: str | None = None
    head_seq: int | None = None  # the entry whose hash is the head given (--head), if any


def verify_chain(
    entries: Iterable[Any],
    *,
    is_intact: Callable[[Any], bool],
    hint: Callable[[Any], str] | None = None,
    checkpoints: Mapping[int, str] | None = None,
    head: str | None = None,
) -> Verification:
    """Check entries given in order: numbered 1, 2, 3, ..., each intact (``is_intact``: its
    contents match its hash) and following the one before. Stops at the first problem.

    ``checkpoints`` (entry count -> the hash of that entry, as published) and ``head`` (a hash
    noted earlier) catch what the chain alone cannot: its newest entries removed, or the whole
    chain rewritten from some entry on. Pure: works on models, rows or parsed lines."""
    checkpoints = dict(checkpoints or {})
    checked = 0
    prev_hash = GENESIS_HASH
    head_seq = None

    def failed(seq: int, problem: str) -> Verification:
        return Verification(
            ok=False,
            checked=checked,
            first_bad_seq=seq,
            problem=problem,
            last_hash=prev_hash if checked else None,
        )

    for entry in entries:
        problem = _problem(
            entry, expected_seq=checked + 1, prev_hash=prev_hash, is_intact=is_intact
        )
        if problem:
            if hint is not None and "changed or forged" in problem:
                problem += hint(entry)
            return failed(entry.seq, problem)
        kept = checkpoints.get(entry.seq)
        if kept is not None and kept != entry.hash:
            return failed(
                entry.seq,
                f"Entry {entry.seq} is not the one the checkpoint {entry.seq}:{kept} names: "
                f"the log was rewritten at or before entry {entry.seq}.",
            )
        if head is not None and entry.hash == head:
            head_seq = entry.seq
        prev_hash = entry.hash
        checked += 1

    beyond = sorted(count for count in checkpoints if count > checked)
    if beyond:
        return failed(
            checked + 1,
            f"The log ends at entry {checked}, but the checkpoint {beyond[-1]}:"
            f"{checkpoints[beyond[-1]]} names entry {beyond[-1]}: "
            f"entries {checked + 1} to {beyond[-1]} (at least) were removed.",
        )
    if head is not None and head_seq is None and not (checked == 0 and head == GENESIS_HASH):
        return failed(
            checked + 1,
            f"No entry has the head hash {head}: the log ends at entry {checked}, so its newest "
            "entries were removed (or the chain was rewritten).",
        )
    return Verification(
        ok=True,
        checked=checked,
        first_bad_seq=None,
        problem="",
        last_hash=prev_hash if checked else None,
        head_seq=head_seq,
    )


def _problem(
    entry: Any, *, expected_seq: int, prev_hash: str, is_intact: Callable[[Any], bool]
) -> str:
    seq = entry.seq
    if seq > expected_seq:
        if seq == expected_seq + 1:
            missing = f"entry {expected_seq} is missing"
        else:
            missing = f"entries {expected_seq} to {seq - 1} are missing"
        return f"An entry before {seq} was removed or moved: {missing}."
    if seq < 1:
        return f"Entry {seq} was inserted: entries are numbered from 1."
    if seq < expected_seq:
        return f"Entry {seq} is out of order: entry {expected_seq} was expected here."

    intact = is_intact(entry)
    follows = entry.prev_hash == prev_hash
    previous = "the start of the log" if seq == 1 else f"entry {seq - 1}"
    if intact and follows:
        return ""
    if follows:
        return f"Entry {seq} was changed or forged: its contents do not match its hash."
    if not intact:
        return (
            f"Entry {seq} is out of order: it does not follow {previous}, "
            "and its contents do not match its position."
        )
    return f"Entry {seq} does not follow {previous}: one of them was forged or replaced."


# --- A downloaded log ---------------------------------------------------------------------------


class LogFileError(ValueError):
    """A line of a downloaded log that is not an entry's public form (names the line)."""


@dataclass(frozen=True)
class FileEntry:
    seq: int
    prev_hash: str
    hash: str
    form: dict


def read_log(lines: Iterable[str]) -> Iterator[FileEntry]:
    """The entries of a downloaded log (JSON lines), lazily; blank lines are skipped. Raises
    LogFileError naming the first line that is not an entry."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            raise LogFileError(f"Line {number} is not JSON.") from None
        yield _file_entry(value, number)


def _file_entry(value: Any, number: int) -> FileEntry:
    where = f"Line {number}"
    if not isinstance(value, dict):
        raise LogFileError(f"{where} is not a JSON object.")
    keys = set(value)
    expected = PUBLIC_KEYS | {"hash"}
    if keys != expected:
        missing, extra = sorted(expected - keys), sorted(keys - expected)
        detail = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"unexpected {', '.join(extra)}" if extra else "",
            )
            if part
        )
        raise LogFileError(f"{where} is not an audit entry ({detail}).")
    seq = value["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise LogFileError(f"{where}: seq is not a whole number.")
    for key in ("hash", "prev_hash", "private"):
        if not is_hash(value[key]):
            raise LogFileError(f"{where}: {key} is not a SHA-256 in lower-case hex.")
    target = value["target"]
    if not (
        isinstance(target, dict)
        and set(target) == {"type", "id"}
        and isinstance(target["type"], str)
        and (target["id"] is None or (isinstance(target["id"], int) and target["id"] is not True))
    ):
        raise LogFileError(f'{where}: target is not {{"type": ..., "id": ...}}.')
    if not isinstance(value["data"], dict):
        raise LogFileError(f"{where}: data is not a JSON object.")
    for key in ("moment", "action"):
        if not isinstance(value[key], str):
            raise LogFileError(f"{where}: {key} is not a string.")
    if value["actor"] is not None and not isinstance(value["actor"], str):
        raise LogFileError(f"{where}: actor is neither a name nor null.")
    return FileEntry(seq=seq, prev_hash=value["prev_hash"], hash=value["hash"], form=value)


def file_entry_is_intact(entry: FileEntry) -> bool:
    return form_hash(entry.form) == entry.hash


def parse_checkpoint(text: str) -> tuple[int, str]:
    """``COUNT:HASH`` (as the log page, the digest and ``audit-checkpoint`` print it)."""
    count, _, hash_ = text.strip().partition(":")
    if not count.isdigit() or not is_hash(hash_.lower()):
        raise ValueError(f"{text!r} is not COUNT:HASH (a number, a colon, 64 hex digits)")
    return int(count), hash_.lower()


def verification_report(result: Verification, *, head: str | None = None) -> tuple[str, int]:
    """What ``flask verify-audit`` prints, and its exit status (0 intact, 1 a problem found)."""
    if result.ok and result.checked == 0:
        return "The audit log is empty: nothing to verify.", 0
    if result.ok:
        entries = "1 entry" if result.checked == 1 else f"{result.checked} entries"
        lines = [
            f"The audit log is intact: {entries} verified.",
            f"The newest, entry {result.checked}, has hash {result.last_hash}.",
        ]
        if head is not None and result.head_seq is not None:
            added = result.checked - result.head_seq
            lines.append(
                f"The head given is entry {result.head_seq}"
                + (f"; {added} entries were added since." if added else ", the newest.")
            )
        else:
            lines.append(
                "Compare it with the hash noted at the last check (or pass it with --head, or a "
                "published checkpoint with --checkpoint): the chain alone cannot show that its "
                "newest entries were removed."
            )
        return "\n".join(lines), 0
    lines = ["The audit log has been tampered with.", result.problem]
    if result.checked:
        entries = "entry 1 is" if result.checked == 1 else f"entries 1 to {result.checked} are"
        lines.append(f"Before that, {entries} intact.")
    return "\n".join(lines), 1
