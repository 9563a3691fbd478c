"""Canonical keys for shared resources (links, papers, datasets), used to catch duplicates, and
checks of the identifiers researchers cite (DOIs, ORCID iDs).

Members share resources as topics carrying a URL and optionally a DOI. The same resource is
routinely pasted in trivially different forms (``http`` vs ``https``, ``www.``, a trailing
slash, ``utm_*`` tracking parameters, an arXiv PDF link instead of the abstract page, a DOI
with or without ``https://doi.org/``), so comparing raw strings would miss most duplicates.
Everything here is a pure function over strings -- no Flask, no database -- so the rules can be
tested exhaustively and the stored keys recomputed if the rules ever change.

The canonical URL is a *comparison key*, not a link to render: it deliberately merges forms
that a pedantic server could tell apart (http/https, ``www.``, a trailing slash), because for a
research forum a false "already shared" hint is cheap and a missed duplicate is the common case.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import SplitResult, parse_qsl, quote, quote_plus, unquote, urlsplit

__all__ = [
    "TRACKING_PARAMS",
    "canonical_url",
    "display_domain",
    "doi_url",
    "normalise_doi",
    "normalise_orcid",
    "orcid_check_digit",
    "resource_key",
]

# Query parameters that only say *how* someone arrived at a page, never *which* page it is.
# Compared case-insensitively; any parameter starting with ``utm_`` is dropped as well.
# ``source`` is deliberately absent: it is too often a real parameter (e.g. a dataset source).
TRACKING_PARAMS = frozenset(
    {
        "fbclid",  # Facebook
        "gclid",  # Google Ads
        "dclid",  # Google Display (DoubleClick)
        "msclkid",  # Microsoft Advertising
        "mc_cid",  # Mailchimp campaign
        "mc_eid",  # Mailchimp recipient
        "igshid",  # Instagram share
        "yclid",  # Yandex
        "_hsenc",  # HubSpot
        "_hsmi",  # HubSpot
        "ref",  # referrer
        "ref_src",  # referrer source
    }
)
TRACKING_PREFIXES = ("utm_",)

_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = frozenset({80, 443})  # http and https are merged, so both defaults go
_ARXIV_HOSTS = frozenset({"arxiv.org", "export.arxiv.org"})
_DOI_HOSTS = frozenset({"doi.org", "dx.doi.org", "www.doi.org"})

# RFC 3986: unreserved characters never need percent-encoding, so "%7E" and "~" are the same.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Characters allowed literally inside a path segment (pchar minus unreserved and "%").
_SEGMENT_SAFE = frozenset("!$&'()*+,;=:@")
# Query keys and values are re-encoded after decoding; keep the readable URL characters
# literal, but never "&", "=", "+" or "#", which would change how the query splits.
_QUERY_SAFE = "/:@!$'()*,;?"
_HEX = frozenset("0123456789abcdefABCDEF")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HOST_ASCII = re.compile(r"^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$")

# New-style (2302.12173) and old-style (hep-th/9901001, math.GT/0309136) arXiv identifiers,
# as found on the abstract, PDF and HTML pages, with an optional version and ".pdf".
_ARXIV_PATH = re.compile(
    r"^/(?:abs|pdf|html)/"
    r"(?P<id>\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7})"
    r"(?:v\d+)?(?:\.pdf)?$"
)

# "10." + registrant code (4-9 digits, optional dot-separated sub-codes) + "/" + suffix.
_DOI = re.compile(r"^10\.\d{4,9}(?:\.\d+)*/[^\s\x00-\x1f\x7f]+$")
_DOI_LABEL = re.compile(r"^doi:\s*", re.IGNORECASE)
# The DOI Handbook says "%", '"', "#", space and "?" must be encoded in a URL and recommends
# encoding "<>{}^[]`|\+" too; everything else that is legal in a path stays readable.
_DOI_URL_SAFE = "/:;()!$&'*,=@"


def canonical_url(url: str) -> str | None:
    """Return a key under which equivalent forms of the same http(s) URL compare equal.

    Returns None unless ``url`` is an absolute http or https URL with a valid host, so callers
    can use this as the validity check too. The result looks like
    ``https://example.org/path?a=1&b=2``; see the module docstring for why it merges forms
    (scheme, ``www.``, trailing slash) that a server could in principle distinguish.
    """
    parsed = _split(url)
    if parsed is None:
        return None
    parts, host = parsed
    port = parts.port  # already validated by _split
    netloc = host if port is None or port in _DEFAULT_PORTS else f"{host}:{port}"
    path = _normalise_path(parts.path)

    if host in _ARXIV_HOSTS and port in (None, *_DEFAULT_PORTS):
        # One paper, many URLs: the abstract page of the unversioned identifier wins, and the
        # query (download options, tracking) never identifies a different paper.
        match = _ARXIV_PATH.match(path)
        if match:
            return f"https://arxiv.org/abs/{match['id']}"

    query = _normalise_query(parts.query)
    return f"https://{netloc}{path}" + (f"?{query}" if query else "")


def display_domain(url: str) -> str:
    """Return the host to show on a resource card, e.g. ``arxiv.org``, or "" if unparsable.

    Internationalised hosts are shown in their Unicode form because that is what members
    recognise; the ``www.`` prefix is dropped as noise. Only URLs that ``canonical_url``
    accepts have a domain, so a card never shows a host for a link the forum would not store.
    """
    parsed = _split(url)
    if parsed is None:
        return ""
    _, host = parsed
    try:
        return host.encode("ascii").decode("idna")
    except UnicodeError:  # e.g. an "xn--" label that is not valid punycode
        return host


def normalise_doi(text: str) -> str | None:
    """Return the DOI in ``text`` in canonical (lowercase) form, or None if it is not a DOI.

    DOIs are case-insensitive, so lowercasing gives one key per DOI. Accepted forms are the
    bare DOI (``10.1000/xyz``), a ``doi:`` label (``doi:10.1000/xyz``, ``DOI: 10.1000/xyz``)
    and a doi.org / dx.doi.org URL, whose percent-encoded suffix is decoded (and whose query
    and fragment are ignored, since a DOI's "?" and "#" must be encoded in a URL).
    """
    text = text.strip()
    if not text:
        return None
    if text[:5].lower() in {"http:", "https"}:
        try:
            parts = urlsplit(text)
        except ValueError:
            return None
        if parts.scheme.lower() not in _SCHEMES or (parts.hostname or "") not in _DOI_HOSTS:
            return None
        candidate = unquote(parts.path.removeprefix("/"))
    else:
        candidate = _DOI_LABEL.sub("", text, count=1)
    if not _DOI.match(candidate):
        return None
    return candidate.lower()


_ARXIV_LABEL = re.compile(r"^arxiv:\s*", re.IGNORECASE)


def normalise_arxiv_id(text: str) -> str | None:
    """Return the unversioned arXiv identifier in ``text`` (``2302.12173``, ``hep-th/9901001``),
    or None if it is not one. Accepted: the bare id with or without a version, an ``arXiv:``
    label, and any arXiv abstract, PDF or HTML URL (the forms ``canonical_url`` merges)."""
    text = text.strip()
    if text[:5].lower() in {"http:", "https"}:
        key = canonical_url(text)
        prefix = "https://arxiv.org/abs/"
        return key.removeprefix(prefix) if key and key.startswith(prefix) else None
    match = _ARXIV_PATH.match("/abs/" + _ARXIV_LABEL.sub("", text, count=1))
    return match["id"] if match else None


def doi_url(doi: str) -> str:
    """Return the https://doi.org/ resolver URL for ``doi``.

    The DOI is normalised first (so any form ``normalise_doi`` accepts works) and its suffix
    percent-encoded where a URL requires it, so that ``normalise_doi(doi_url(d)) == d``.
    Raises ValueError for text that is not a DOI: stored DOIs are validated on the way in, so
    an invalid one here is a bug, not something to link to.
    """
    normalised = normalise_doi(doi)
    if normalised is None:
        raise ValueError(f"not a DOI: {doi!r}")
    return "https://doi.org/" + quote(normalised, safe=_DOI_URL_SAFE)


# An ORCID iD: 16 characters in groups of four, the last a check digit or "X", bare or as a URL.
_ORCID = re.compile(r"^(?:https?://orcid\.org/)?(\d{4})-?(\d{4})-?(\d{4})-?(\d{3}[\dX])$", re.I)


def orcid_check_digit(base_digits: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 15 digits of an ORCID iD."""
    total = 0
    for digit in base_digits:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def normalise_orcid(text: str) -> str | None:
    """The iD as 0000-0000-0000-000X when well-formed with a right check digit, else None."""
    match = _ORCID.match(text.strip())
    if not match:
        return None
    digits = "".join(match.groups()).upper()
    if orcid_check_digit(digits[:15]) != digits[15]:
        return None
    return "-".join(digits[i : i + 4] for i in range(0, 16, 4))


def resource_key(url: str | None, doi: str | None) -> list[str]:
    """Return the keys under which a shared resource is stored for duplicate detection.

    A resource is a duplicate if it shares *any* key with an earlier one, so a topic gets a
    ``doi:`` key for its DOI, a ``url:`` key for its canonical URL and, when the URL is a
    doi.org link, the ``doi:`` key of that DOI too -- that way a paper shared once by DOI and
    once as ``https://doi.org/...`` is still caught. Values that are missing, blank or invalid
    contribute no key (rejecting invalid input is the form's job). No key appears twice.
    """
    keys: list[str] = []
    if doi:
        normalised = normalise_doi(doi)
        if normalised is not None:
            keys.append(f"doi:{normalised}")
    if url:
        canonical = canonical_url(url)
        if canonical is not None:
            keys.append(f"url:{canonical}")
            from_url = normalise_doi(url)
            if from_url is not None:
                keys.append(f"doi:{from_url}")
    return list(dict.fromkeys(keys))


def _split(url: str) -> tuple[SplitResult, str] | None:
    """Split an absolute http(s) URL and return ``(parts, ascii_host)``, or None if invalid.

    Shared by ``canonical_url`` and ``display_domain`` so both agree on what is a valid link.
    The host comes back lowercased, IDNA-encoded (so Unicode and punycode forms match),
    without a trailing dot or a leading ``www.``.
    """
    # NFC so that a pasted "é" matches whichever composition another browser produced;
    # ASCII, and therefore every already-canonical URL, is unaffected.
    url = unicodedata.normalize("NFC", url.strip())
    if _CONTROL.search(url):
        return None  # urlsplit silently drops tabs/newlines; such text is not a clean URL
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a non-numeric or out-of-range port
    except ValueError:
        return None
    if parts.scheme.lower() not in _SCHEMES or "\\" in parts.netloc:
        return None  # browsers read "\" as "/", so such an authority is ambiguous
    host = _ascii_host(parts.hostname or "")
    if host is None:
        return None
    return parts, host


def _ascii_host(hostname: str) -> str | None:
    """Return the canonical ASCII form of a (lowercased) hostname, or None if it is invalid."""
    if ":" in hostname:  # urlsplit strips the brackets of an IPv6 literal
        try:
            return f"[{ipaddress.IPv6Address(hostname).compressed}]"
        except ValueError:
            return None
    hostname = hostname.removesuffix(".")  # "example.org." is the same DNS name
    if not hostname:
        return None
    try:
        host = hostname.encode("idna").decode("ascii").lower()
    except UnicodeError:  # empty or over-long label, or a character IDNA forbids
        return None
    if not _HOST_ASCII.match(host):
        return None
    if host.startswith("www.") and "." in host[4:]:  # keep "www.com" rather than a bare TLD
        host = host[4:]
    return host


def _normalise_path(path: str) -> str:
    """Return the path with consistent escaping, no empty or dot segments, no trailing slash.

    Splitting on "/" and dropping empty segments collapses duplicate slashes and removes the
    trailing slash in one step; the root path becomes "". An encoded "%2F" is not a separator
    and is left alone. Case is kept because paths are case-sensitive.
    """
    segments: list[str] = []
    for raw in path.split("/"):
        segment = _normalise_percent(raw)
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    return "/" + "/".join(segments) if segments else ""


def _normalise_percent(segment: str) -> str:
    """Decode percent-escapes of unreserved characters, uppercase the rest, encode the unsafe.

    This makes "%7e", "%7E" and "~" identical, and also "café" and "caf%C3%A9"; a stray "%"
    that does not start an escape is encoded as "%25" so the result is always valid.
    """
    out: list[str] = []
    i = 0
    while i < len(segment):
        char = segment[i]
        if char == "%" and segment[i + 1 : i + 2] in _HEX and segment[i + 2 : i + 3] in _HEX:
            decoded = chr(int(segment[i + 1 : i + 3], 16))
            out.append(decoded if decoded in _UNRESERVED else segment[i : i + 3].upper())
            i += 3
            continue
        if char in _UNRESERVED or char in _SEGMENT_SAFE:
            out.append(char)
        else:
            out.append(quote(char, safe=""))
        i += 1
    return "".join(out)


def _normalise_query(query: str) -> str:
    """Return the query without tracking parameters, sorted by key, consistently encoded.

    Sorting makes parameter order irrelevant; the sort is stable and by key only, so repeated
    keys keep their relative order (``?tag=b&tag=a`` can mean something different from
    ``?tag=a&tag=b``) and blank values are kept (``?download`` can matter).
    """
    pairs = [
        (key, value)
        for key, value in parse_qsl(query, keep_blank_values=True)
        if not _is_tracking(key)
    ]
    pairs.sort(key=lambda pair: pair[0])
    return "&".join(
        f"{quote_plus(key, safe=_QUERY_SAFE)}={quote_plus(value, safe=_QUERY_SAFE)}"
        for key, value in pairs
    )


def _is_tracking(key: str) -> bool:
    """Whether a (decoded) query parameter name is a known tracking parameter."""
    key = key.lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)
