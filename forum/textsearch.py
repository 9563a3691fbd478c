"""Turning titles and posts into search terms, the same way for what is indexed and what is asked.

Pure functions, no database: forum.services.search stores and queries what these return. Both
sides of a comparison go through ``terms()``, so a rule here only has to be consistent, not
linguistically perfect: "attacking" and "attacks" both become "attack", "الْعُضْوِيَّة" and
"العضوية" both become "عضو".
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter

# A title word says more about what a topic is about than a word deep in its body.
TITLE_WEIGHT = 3.0
# Long posts list many words in passing; only their most frequent ones describe the topic.
MAX_BODY_TERMS = 200
MIN_TERM_LENGTH = 2
# The width of forum.models.search.TopicTerm.term; longer tokens are hashes and URLs, not words.
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
# Affixes after Larkey et al.'s "light10" stemmer, the usual baseline for Arabic retrieval.
# The definite article, alone or after a conjunction or preposition ("والنماذج", "للنماذج"),
# longest first.
_ARABIC_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال")
# Sound plurals, dual, possessive "ها", and the adjective/feminine endings (ة is already ه).
_ARABIC_SUFFIXES = ("ها", "ان", "ات", "ون", "ين", "يه", "ه", "ي")
# An affix is only removed when a word this long remains: "الم" (pain) is not "ال" + "م".
_ARABIC_MIN_STEM = 3

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
# Words whose ending looks like an inflection but is their own ("bias" is not a plural).
_NOT_INFLECTED_TEXT = """
alias atlas bias canvas chaos gas lens news series species always perhaps
embed hundred sacred wicked naked bring during nothing something anything everything thing
"""
_NOT_INFLECTED = frozenset(_NOT_INFLECTED_TEXT.split())
_VOWELS = frozenset("aeiouy")
_BRITISH_ISE = re.compile(r"([iy])s(?=(?:ations?|e|es|ed|ing|ers?)$)")


def _has_vowel(stem: str) -> bool:
    return any(c in _VOWELS for c in stem)


def _undouble(stem: str) -> str:
    # "running" → "run", "embedding" → "embed"; but "falling", "passing", "buzzing" keep theirs.
    if len(stem) >= 4 and stem[-1] == stem[-2] and stem[-1] not in "lsz" + "aeiou":
        return stem[:-1]
    return stem


def _strip_verb_ending(word: str) -> str:
    for ending, min_stem in (("ing", 3), ("ed", 3), ("ly", 4)):
        if word.endswith(ending):
            stem = word[: -len(ending)]
            if len(stem) < min_stem or not _has_vowel(stem):  # "string", "bed", "only"
                return word
            return stem if ending == "ly" else _undouble(stem)
    return word


def english_stem(word: str) -> str:
    """A light suffix stripper (plural, -ing, -ed, -ly, -ment, final -e), after Porter's.

    Light on purpose: it joins inflections of one word ("attacks", "attacking", "attacked") but
    not derivations ("infer", "inference"; "evaluate", "evaluation"), so it rarely merges words
    that mean different things.
    """
    if len(word) <= 3 or word in _NOT_INFLECTED:
        return word
    # British and American spellings meet: "memorisation", "memorised" → "memorization", ...
    word = _BRITISH_ISE.sub(r"\1z", word)
    # Plurals and third person: "policies" → "policy", "classes" → "class", "patches" → "patch",
    # "biases" → "bias", "cases" → "case", "models" → "model"; "corpus", "analysis" stay.
    if word.endswith(("ies", "ied")) and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "ches", "shes", "xes")) or word[:-2] in _NOT_INFLECTED:
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    # Then one verb or adverb ending; "need", "speed" and "exceed" keep their own "ed".
    if not word.endswith("eed"):
        word = _strip_verb_ending(word)
    # Last, so that "documented", "documents" and "document" all end up alike.
    if word.endswith("ment") and len(word) - 4 >= 4:
        word = word[:-4]
    # A final "e" comes and goes with endings ("change", "changing"; "remove", "removed"), so it
    # is dropped everywhere, as Porter's stemmer does: "inference" is indexed as "inferenc".
    if word.endswith("e") and not word.endswith("ee") and len(word) >= 4:
        word = word[:-1]
    return word


def _normalise_arabic(token: str) -> str:
    return token.translate(_ARABIC_NORMALISATION)


def arabic_stem(word: str) -> str:
    """Remove one article prefix and one ending each, when at least 3 letters remain."""
    for prefix in _ARABIC_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= _ARABIC_MIN_STEM:
            word = word[len(prefix) :]
            break
    for suffix in _ARABIC_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _ARABIC_MIN_STEM:
            word = word[: -len(suffix)]
            break
    return word


# Written as people write them; compared after the same normalisation as the text.
_ARABIC_STOPWORDS_TEXT = """
في من على إلى عن هل ما ماذا كيف لماذا متى أين هذا هذه ذلك تلك هؤلاء التي الذي الذين اللذان اللتان
اللواتي و أو أم ثم مع كل أن إن أنه إنه كان كانت يكون تكون هو هي هم هن نحن أنا أنت أنتم لا لم لن
ليس قد بين عند عندما لكن حتى إذا أي أيضا بعد قبل مثل غير بعض يمكن هناك هنا كما لقد منذ فقط حول ضد
دون عبر خلال لدى
"""
_ARABIC_STOPWORDS = frozenset(_normalise_arabic(w) for w in _ARABIC_STOPWORDS_TEXT.split())


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


def _log_tf(count: int) -> float:
    # 1 + ln(tf): the tenth mention of a word adds far less than the first.
    return 1.0 + math.log(count)


def term_weights(title: str, body: str) -> dict[str, float]:
    """How strongly each term describes a topic: title mentions weigh TITLE_WEIGHT times more.

    Body terms beyond the MAX_BODY_TERMS most frequent are left out, so a long post neither
    bloats the index nor matches every question by sheer vocabulary.
    """
    weights: dict[str, float] = {}
    for term, count in Counter(terms(title)).items():
        weights[term] = TITLE_WEIGHT * _log_tf(count)
    # most_common keeps first-seen order among equal counts, so the cut is deterministic.
    for term, count in Counter(terms(body)).most_common(MAX_BODY_TERMS):
        weights[term] = weights.get(term, 0.0) + _log_tf(count)
    return weights
