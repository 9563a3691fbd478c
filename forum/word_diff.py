"""A word-level diff of two texts, as escaped HTML with <ins> and <del> (issue 18, item 2).

Pure computation, no Flask or database. Texts are split into words, runs of whitespace and
single punctuation marks, so a changed word is marked alone and spacing survives; difflib's
SequenceMatcher finds the longest common runs. Every token is escaped: user text never
becomes markup here (the Markdown is shown as written, not rendered)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from markupsafe import Markup, escape

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


def tokens(text: str) -> list[str]:
    """Words, whitespace runs and punctuation marks; joined again they give the text back."""
    return _TOKEN.findall(text)


@dataclass(frozen=True)
class WordDiff:
    html: Markup
    inserted: int  # words (not whitespace) inserted
    deleted: int  # words deleted

    @property
    def unchanged(self) -> bool:
        return not (self.inserted or self.deleted)


def _words(parts: list[str]) -> int:
    return sum(1 for part in parts if not part.isspace())


def word_diff(old: str, new: str) -> WordDiff:
    """The changes from ``old`` to ``new``: deleted tokens in <del>, inserted ones in <ins>."""
    before, after = tokens(old), tokens(new)
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    out: list[Markup] = []
    inserted = deleted = 0
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.append(escape("".join(before[i1:i2])))
            continue
        if op in ("delete", "replace"):
            out.append(Markup("<del>{}</del>").format("".join(before[i1:i2])))
            deleted += _words(before[i1:i2])
        if op in ("insert", "replace"):
            out.append(Markup("<ins>{}</ins>").format("".join(after[j1:j2])))
            inserted += _words(after[j1:j2])
    return WordDiff(Markup("").join(out), inserted, deleted)
