"""Citations in BibTeX, CSL-JSON and plain text: guideline releases (issue 18, item 2); papers
use its BibTeX escaping (forum/services/paper_bibtex.py).

Pure computation, no Flask or database: the view passes what to cite. BibTeX values are braced
and LaTeX's special characters escaped, so a title like "Risks & {mitigations}" parses back as
written; names are braced whole (an institution or a name in Arabic is not split into
first/last)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

_BIBTEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class Citable:
    key: str  # ASCII letters, digits and underscores
    title: str
    authors: list[str]
    version: str  # "1.0"
    published_at: datetime
    url: str
    publisher: str


def bibtex_escape(text: str) -> str:
    text = _CONTROL.sub(" ", text)
    return "".join(_BIBTEX_SPECIAL.get(ch, ch) for ch in text)


def bibtex(item: Citable) -> str:
    fields = [
        ("title", f"{{{bibtex_escape(item.title)}}}"),
        ("author", " and ".join(f"{{{bibtex_escape(name)}}}" for name in item.authors)),
        ("year", str(item.published_at.year)),
        ("month", str(item.published_at.month)),
        ("version", bibtex_escape(item.version)),
        ("publisher", bibtex_escape(item.publisher)),
        ("howpublished", f"\\url{{{bibtex_escape(item.url)}}}"),
        ("url", bibtex_escape(item.url)),
    ]
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
    return f"@misc{{{item.key},\n{body}\n}}\n"


def csl_json(item: Citable) -> str:
    date = item.published_at
    return json.dumps(
        [
            {
                "id": item.key,
                "type": "report",
                "title": item.title,
                "author": [{"literal": name} for name in item.authors],
                "issued": {"date-parts": [[date.year, date.month, date.day]]},
                "version": item.version,
                "publisher": item.publisher,
                "URL": item.url,
            }
        ],
        ensure_ascii=False,
        indent=2,
    )


def plain_text(item: Citable) -> str:
    authors = ", ".join(item.authors)
    return (
        f"{authors} ({item.published_at.year}). {item.title} (version {item.version}). "
        f"{item.publisher}. {item.url}"
    )
