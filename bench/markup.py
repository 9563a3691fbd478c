"""Benchmark: rendering the worst post bodies a member can write, shape by shape.

    .venv/bin/python bench/markup.py [--repeat 5] [--no-write] [--only NAME]

Each shape is a pathological body (a unit repeated, after an optional head) as long as the form
lets it be: BODY_MAX_LENGTH characters, or, where the forum bounds what a body holds (elements,
table rows, links, nesting, marks, escaped characters: forum.markup.check_bounds), as many
units as validation accepts, the rest filled with prose. Each is rendered with render_markdown
(markdown-it-py, then bleach) --repeat times and the median CPU time of the process is reported
(the machine is shared: wall time measures the neighbours), with the time validation spends on
check_bounds. The worst shape is what issue 13 bounds (150 ms). The results replace the
"Rendering (bench/markup.py)" section of docs/performance.md unless --no-write.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from forum import markup  # noqa: E402
from forum.models.discussions import BODY_MAX_LENGTH  # noqa: E402

REPORT = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
SECTION = "## Rendering (bench/markup.py)"
BUDGET_MS = 150


PROSE = "A considered reply about membership inference, and what it means for our work. "


@dataclass(frozen=True)
class Shape:
    """A head, then each unit repeated in turn (as often as validation lets it), then a tail."""

    name: str
    units: tuple[str, ...]
    head: str = ""
    tail: str = ""


def repeated(name: str, unit: str, *, head: str = "", tail: str = "") -> Shape:
    return Shape(name, (unit,), head, tail)


SHAPES = [
    repeated("table, 2 columns", "|x|y|\n", head="|a|b|\n|---|---|\n"),
    repeated("table, aligned columns", "|1|2|3|\n", head="|a|b|c|\n|:-|:-:|-:|\n"),
    repeated("table, one wide row", "|x", head="|a|b|\n|---|---|\n", tail="|\n"),
    repeated("tables, many small", "|a|\n|-|\n|x|\n\n"),
    repeated("links [a](url)", "[a](https://e.org) "),
    repeated("links, reference style", "[a][r] ", tail="\n\n[r]: https://e.org/\n"),
    repeated("brackets [x]", "[x] "),
    repeated("brackets [x](", "[x]( "),
    repeated("brackets [[[", "["),
    repeated("images ![a](url)", "![a](https://e.org/i.png) "),
    repeated("bare URLs", "https://e.org/a "),
    repeated("bare domains", "e.org "),
    repeated("autolinks <url>", "<https://e.org> "),
    repeated("email addresses", "a@e.org "),
    repeated("mentions @handle", "@member1 "),
    repeated("emphasis *a", "*a "),
    repeated("emphasis *a*", "*a* "),
    repeated("emphasis ** run", "**"),
    repeated("emphasis _ run", "_"),
    repeated("emphasis _a_b", "_a_b "),
    repeated("strikethrough ~~a~~", "~~a~~ "),
    repeated("inline code `a`", "`a` "),
    repeated("backtick runs", "`"),
    repeated("hard line breaks", "a  \n"),
    repeated("list items", "- a\n"),
    repeated("lists, nested", "  - a\n", head="- a\n"),
    repeated("lists, deep", "- ", tail="a\n"),
    repeated("ordered list, deep", "1. ", tail="a\n"),
    repeated("block quotes, deep", ">", tail=" a\n"),
    repeated("block quotes, many lines", "> a\n"),
    repeated("headings", "# h\n"),
    repeated("setext headings", "h\n-\n"),
    repeated("horizontal rules", "---\n\n"),
    repeated("code fences, many", "```\nx\n```\n"),
    repeated("code fence, one big", "x = 1\n", head="```python\n", tail="```\n"),
    repeated("indented code", "    x\n"),
    repeated("paragraphs", "a\n\n"),
    repeated("long word", "a"),
    repeated("long URL", "a", head="https://e.org/"),
    repeated("HTML tags <b>", "<b>"),
    repeated("HTML entities &amp;", "&amp;"),
    repeated("numeric entities &#x41;", "&#x41;"),
    repeated("angle brackets <", "<"),
    repeated("backslash escapes", "\\*"),
    repeated("Arabic text", "مرحبا بالعالم "),
    repeated("prose", PROSE),
    Shape(
        "everything at its limit",
        ("|x|y|\n", "[a](https://e.org) ", "*a* ", "`a` ", "<", "[x] ", "- a\n", "a\n\n"),
        head="|a|b|\n|-|-|\n",
    ),
]


def accepted_body(shape: Shape) -> tuple[str, bool]:
    """The longest body of this shape that validation accepts, and whether a bound cut it.

    Each unit is repeated as often as forum.markup.check_bounds lets it (it is monotone in the
    count); a body cut short is then filled up with plain prose to BODY_MAX_LENGTH, since a
    member may write that too.
    """
    check = getattr(markup, "check_bounds", None) or (lambda text: [])
    separator = "\n\n" if len(shape.units) > 1 else ""
    body, limited = shape.head, False
    for unit in shape.units:
        most = (BODY_MAX_LENGTH - len(body) - len(separator) - len(shape.tail)) // len(unit)
        low, high = 0, most
        while low < high:  # the largest count with no excess
            middle = (low + high + 1) // 2
            if check(body + unit * middle + shape.tail + "\n\nx"):  # x: the prose to come
                high = middle - 1
            else:
                low = middle
        limited = limited or low < most
        body += unit * low + separator
    body += shape.tail
    if limited:
        room = BODY_MAX_LENGTH - len(body) - 2
        body += "\n\n" + (PROSE * (room // len(PROSE) + 1))[:room]
        assert not check(body), shape.name
    return body, limited


def median_ms(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.process_time()  # CPU time: the machine is shared, wall time is noise
        action()
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times)


def measure(shape: Shape, repeat: int) -> dict:
    body, limited = accepted_body(shape)
    handles = {"member1"}
    check = getattr(markup, "check_bounds", None)
    return {
        "shape": shape.name,
        "chars": len(body),
        "limited": limited,
        "render": median_ms(lambda: markup.render_markdown(body, mention_handles=handles), repeat),
        "check": median_ms(lambda: check(body), repeat) if check else None,
        "html": len(markup.render_markdown(body, mention_handles=handles)),
    }


def table(rows: list[dict]) -> str:
    lines = [
        "| shape | body (chars) | cut by a limit | render (ms) | validation check (ms) |",
        "|---|--:|---|--:|--:|",
    ]
    for row in rows:
        check = f"{row['check']:.1f}" if row["check"] is not None else "—"
        lines.append(
            f"| {row['shape']} | {row['chars']:,} | {'yes' if row['limited'] else ''} "
            f"| {row['render']:.1f} | {check} |"
        )
    return "\n".join(lines)


def write_report(rows: list[dict], repeat: int) -> None:
    worst = max(rows, key=lambda row: row["render"])
    section = f"""{SECTION}

What it costs to turn the worst bodies a member can write into HTML (`forum.markup.render_markdown`:
markdown-it-py, then bleach). Each shape repeats one unit up to {BODY_MAX_LENGTH:,} characters, or,
where a bound cuts it (`forum.markup.check_bounds`, enforced at the body field and in
`services/posting.py`), as often as validation accepts, the rest of the body filled with prose.
Each time is the median CPU time of {repeat} runs (`time.process_time`: the machine is shared).

```
.venv/bin/python bench/markup.py            # runs every shape, rewrites this section
.venv/bin/python bench/markup.py --no-write # prints only
```

Machine: 2 vCPUs shared with other processes, Python {platform.python_version()}. Worst shape:
**{worst["shape"]}, {worst["render"]:.0f} ms** (budget {BUDGET_MS} ms).

{table(rows)}
"""
    text = REPORT.read_text(encoding="utf-8")
    start = text.find(SECTION)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section + (text[end + 1 :] if end != -1 else "")
    REPORT.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="do not update the report")
    parser.add_argument("--only", help="run the shapes whose name contains this")
    args = parser.parse_args()
    markup.render_markdown("warm *up*")
    rows = []
    print(f"{'shape':28} {'chars':>7} {'limit':>5} {'render ms':>10} {'check ms':>9} {'html':>8}")
    for shape in SHAPES:
        if args.only and args.only not in shape.name:
            continue
        row = measure(shape, args.repeat)
        rows.append(row)
        check = f"{row['check']:9.1f}" if row["check"] is not None else f"{'—':>9}"
        print(
            f"{row['shape']:28} {row['chars']:7d} {'yes' if row['limited'] else '':>5} "
            f"{row['render']:10.1f} {check} {row['html']:8d}",
            flush=True,
        )
    worst = max(rows, key=lambda row: row["render"])
    print(f"worst: {worst['shape']} {worst['render']:.1f} ms (budget {BUDGET_MS} ms)")
    if not args.no_write and not args.only:
        write_report(rows, args.repeat)
    return 0 if worst["render"] <= BUDGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
