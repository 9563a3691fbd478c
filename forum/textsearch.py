"""Turning titles and posts into search terms, the same way for what is indexed and what is asked.

Pure functions, no database: forum.services.search and .fulltext store and query what these
return. Both sides of a comparison go through ``terms()``, so a rule here only has to be
consistent, not linguistically perfect: "attacking" and "attacks" both become "attack",
"الْعُضْوِيَّة" and "العضوية" both become "عضو".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import Stemmer
from markupsafe import Markup, escape

MIN_TERM_LENGTH = 2
# Longer tokens are hashes and URLs, not words.
MAX_TERM_LENGTH = 64


def _combining_marks() -> str:
    # Marks (vowel signs, accents) belong to the word they sit on, but Python's \w does not match
    # them: without this "हिन्दी" would split into letters. The Basic Multilingual Plane holds the
    # marks of every living script; building the class takes about 10 ms at import.
    ranges: list[str] = []
    start = None
    for code in range(0x10001):
        is_mark = code < 0x10000 and unicodedata.category(chr(code)).startswith("M")
        if is_mark and start is None:
            start = code
        elif not is_mark and start is not None:
            ranges.append(f"{chr(start)}-{chr(code - 1)}")
            start = None
    return "".join(ranges)


# Letters and digits of any script, with their marks; "_" and punctuation separate words.
_WORD = re.compile(rf"(?:[^\W_]|[{_combining_marks()}])+")

# --- Arabic -------------------------------------------------------------------------------------

# Short vowels, shadda, sukun, tanween, superscript alef and Quranic marks are optional in
# writing, and tatweel only stretches a word: none of them change which word it is.
_ARABIC_MARKS = dict.fromkeys(
    [*range(0x0610, 0x061B), *range(0x064B, 0x0660), 0x0670, *range(0x06D6, 0x06EE), 0x0640]
)
# Spellings of the same letter that writers use interchangeably (hamza seats, alef maqsura,
# ta marbuta), Persian keyboard forms of kaf and yeh, and Arabic-Indic digits.
_ARABIC_LETTERS = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ی": "ي",
        "ئ": "ي",
        "ؤ": "و",
        "ة": "ه",
        "ک": "ك",
        **{chr(0x0660 + d): str(d) for d in range(10)},
        **{chr(0x06F0 + d): str(d) for d in range(10)},
    }
)
_ARABIC_NORMALISATION = {**_ARABIC_MARKS, **_ARABIC_LETTERS}
_ARABIC_LETTER = re.compile("[\u0621-\u064a]")

# --- English ------------------------------------------------------------------------------------

# Function words of questions; "how do I", "what is" and "anyone" say nothing about the topic.
_ENGLISH_STOPWORDS_TEXT = """
a about above after again against all also am an and any anyone are as at be been before being
between both but by can could did do does doing down during each either else few for from had has
have having he her here hers him his how i if in into is it its itself just may me might more most
must my no nor not now of off on once only or other our ours out over own same shall she should so
some such than that the their theirs them then there these they this those through to too under
until up upon us very was we were what when where whether which while who whom whose why will
with would yes yet you your yours
"""
_ENGLISH_STOPWORDS = frozenset(_ENGLISH_STOPWORDS_TEXT.split())
_BRITISH_ISE = re.compile(r"([iy])s(?=(?:ations?|e|es|ed|ing|ers?)$)")
# Snowball's stemmers (https://snowballstem.org), through PyStemmer's C extension: the same
# algorithms PostgreSQL's and Lucene's analysers use, not suffix rules of our own (issue 16).
_ENGLISH_STEMMER = Stemmer.Stemmer("english")
_ARABIC_STEMMER = Stemmer.Stemmer("arabic")


def english_stem(word: str) -> str:
    """Snowball's English (Porter 2) stemmer, after joining British and American spellings
    ("memorisation", "memorization")."""
    return _ENGLISH_STEMMER.stemWord(_BRITISH_ISE.sub(r"\1z", word))


def _normalise_arabic(token: str) -> str:
    return token.translate(_ARABIC_NORMALISATION)


def arabic_stem(word: str) -> str:
    """Snowball's Arabic stemmer, on a word already normalised (alef forms, marks, tatweel).

    The normalisation writes ta marbuta as ha ("العضوية" and "العضويه" are one word); Snowball
    strips the feminine ending only as ta marbuta, so a final ha is handed to it as one and
    what it leaves is written back the normalised way.
    """
    if word.endswith("ه"):
        word = word[:-1] + "ة"
    return _ARABIC_STEMMER.stemWord(word).replace("ة", "ه")


# Written as people write them; compared after the same normalisation as the text.
_ARABIC_STOPWORDS_TEXT = """
في من على إلى عن هل ما ماذا كيف لماذا متى أين هذا هذه ذلك تلك هؤلاء التي الذي الذين اللذان اللتان
اللواتي و أو أم ثم مع كل أن إن أنه إنه كان كانت يكون تكون هو هي هم هن نحن أنا أنت أنتم لا لم لن
ليس قد بين عند عندما لكن حتى إذا أي أيضا بعد قبل مثل غير بعض يمكن هناك هنا كما لقد منذ فقط حول ضد
دون عبر خلال لدى
"""
_ARABIC_STOPWORDS = frozenset(_normalise_arabic(w) for w in _ARABIC_STOPWORDS_TEXT.split())

# Words repeat: a post's snippet (highlight) and a reindex meet the same few thousand again and
# again, and stemming is most of their cost. Bounded, and pure: the same token, the same term.
TERM_CACHE_SIZE = 65_536


@lru_cache(maxsize=TERM_CACHE_SIZE)
def _term(token: str) -> str | None:
    if _ARABIC_LETTER.search(token):
        if token in _ARABIC_STOPWORDS:
            return None
        token = arabic_stem(token)
    elif token.isascii() and token.isalpha():
        if token in _ENGLISH_STOPWORDS:
            return None
        token = english_stem(token)
    # Other scripts, and words with digits ("gpt4", "2024"), are kept as written.
    if not MIN_TERM_LENGTH <= len(token) <= MAX_TERM_LENGTH:
        return None
    return token


def terms(text: str) -> list[str]:
    """The index terms of a text, in order and with repeats (term frequency counts them).

    NFKC folds compatibility forms (full-width letters, ligatures, Arabic presentation forms) into
    ordinary letters; casefold is lower() for every script ("Straße" matches "strasse").
    """
    text = unicodedata.normalize("NFKC", text).casefold().translate(_ARABIC_NORMALISATION)
    found = []
    for token in _WORD.findall(text):
        term = _term(token)
        if term is not None:
            found.append(term)
    return found


# --- Full-text search queries (issue 16) --------------------------------------------------------

# A query longer than this is refused rather than cut: nobody types it, and a cut could change
# what a quoted phrase means.
MAX_QUERY_CHARACTERS = 500
# Words and phrases of one query; more is a pasted document, not a question.
MAX_QUERY_PARTS = 12
# Terms indexed per field: PostgreSQL keeps positions up to 16,383 only, so both databases index
# the same first terms and a phrase far down a very long post is found on neither.
MAX_INDEXED_TERMS = 16_000
_QUERY_PART = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')


@dataclass(frozen=True)
class SearchQuery:
    """What was asked: phrases (a single word is a phrase of one term) that must all appear,
    and phrases that must not. Each phrase is a tuple of index terms."""

    required: tuple[tuple[str, ...], ...]
    excluded: tuple[tuple[str, ...], ...]

    @property
    def highlighted_terms(self) -> frozenset[str]:
        return frozenset(term for phrase in self.required for term in phrase)


class QueryError(ValueError):
    """A query that cannot be searched: ``reason`` is "too_long", "nothing" or "too_many"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_query(text: str) -> SearchQuery:
    """Words, "quoted phrases" and -excluded words or -"phrases", through the index's terms().

    Raises QueryError for a query too long, with too many parts, or with nothing left to look
    for (only operators, stop words or an exclusion).
    """
    if len(text) > MAX_QUERY_CHARACTERS:
        raise QueryError("too_long")
    text = text.replace("\x00", " ")
    required: list[tuple[str, ...]] = []
    excluded: list[tuple[str, ...]] = []
    for match in _QUERY_PART.finditer(text):
        quoted_minus, phrase, word_minus, word = match.groups()
        found = tuple(terms(phrase if phrase is not None else word))
        if not found:
            continue
        target = excluded if (quoted_minus or word_minus) else required
        if found not in target:
            target.append(found)
    if len(required) + len(excluded) > MAX_QUERY_PARTS:
        raise QueryError("too_many")
    if not required:
        raise QueryError("nothing")
    return SearchQuery(tuple(required), tuple(excluded))


def fts5_query(query: SearchQuery) -> str:
    """The query in SQLite FTS5's syntax: every term quoted, so no word is read as an operator."""

    def phrase(terms_: tuple[str, ...]) -> str:
        return '"' + " ".join(terms_) + '"'

    expression = " AND ".join(phrase(p) for p in query.required)
    for p in query.excluded:
        expression = f"({expression}) NOT {phrase(p)}"
    return expression


def tsquery_text(query: SearchQuery) -> str:
    """The same query as PostgreSQL tsquery text, each term a quoted lexeme (cast, not parsed)."""

    def phrase(terms_: tuple[str, ...]) -> str:
        return "(" + " <-> ".join(f"'{t}'" for t in terms_) + ")"

    parts = [phrase(p) for p in query.required] + [f"!{phrase(p)}" for p in query.excluded]
    return " & ".join(parts)


def index_text(text: str) -> str:
    """A field as the index stores it on SQLite: its terms, space-separated, in order."""
    return " ".join(terms(text)[:MAX_INDEXED_TERMS])


def tsvector_text(title: str, body: str) -> str:
    """Title and body as PostgreSQL tsvector text: each term with its positions. Title positions
    carry weight A (a query asks for title words with ``'term':A``, as SQLite's FTS5 asks its
    title column); body positions start one past the title's end, so a phrase never runs from the
    title into the body (as FTS5 keeps the two columns apart)."""
    positions: dict[str, list[int]] = {}
    title_terms = terms(title)[:MAX_INDEXED_TERMS]
    for position, term in enumerate(title_terms, start=1):
        positions.setdefault(term, []).append(position)
    start = len(title_terms) + 2
    for position, term in enumerate(terms(body)[:MAX_INDEXED_TERMS], start=start):
        positions.setdefault(term, []).append(min(position, 16383))

    def label(position: int) -> str:
        return f"{position}A" if position < start else str(position)

    return " ".join(
        f"'{term}':" + ",".join(label(p) for p in sorted(set(found))[:256])
        for term, found in positions.items()
    )


SNIPPET_WORDS = 30


def highlight(text: str, query: SearchQuery, *, words: int = SNIPPET_WORDS) -> Markup:
    """A snippet of ``text`` around its first match, escaped, with matching words in <mark>.

    The text is escaped here and only our own <mark> tags are added, so nothing the writer or
    the database produced can reach the page as HTML.
    """
    wanted = query.highlighted_terms
    normalised = unicodedata.normalize("NFKC", text)
    tokens = list(_WORD.finditer(normalised))
    matches = [
        i
        for i, token in enumerate(tokens)
        if _term(token.group().casefold().translate(_ARABIC_NORMALISATION)) in wanted
    ]
    if not tokens:
        return Markup("")
    first = max(0, (matches[0] if matches else 0) - words // 3)
    last = min(len(tokens), first + words)
    start = tokens[first].start()
    marked = set(matches)
    pieces: list[str] = ["… " if first > 0 else ""]
    cursor = start
    for i in range(first, last):
        token = tokens[i]
        pieces.append(str(escape(normalised[cursor : token.start()])))
        word = str(escape(token.group()))
        pieces.append(f"<mark>{word}</mark>" if i in marked else word)
        cursor = token.end()
    pieces.append(" …" if last < len(tokens) else "")
    return Markup("".join(pieces))
