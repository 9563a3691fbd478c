"""Benchmark: rendering the worst post bodies a member can write, shape by shape.

    .venv/bin/python bench/markup.py [--repeat 5] [--no-write]

Each shape is a pathological body (a unit repeated, after an optional head) as long as the
form lets it be: up to BODY_MAX_LENGTH characters and, where the forum bounds what a body holds
(table rows, links, nesting: forum.markup.check_bounds), as many units as validation accepts.
Each is rendered with render_markdown (Markdown, then bleach) --repeat times; the median goes in
the table, with the markdown-it and bleach parts, and the time validation spent checking the
body. The worst shape is what the forum promises to bound (issue 13: at most 150 ms). The
results replace the "Rendering (bench/markup.py)" section of docs/performance.md unless
--no-write. The machine is shared and noisy: expect ±20 % between runs.
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


@dataclass(frozen=True)
class Shape:
    name: str
    unit: str
    head: str = ""
    tail: str = ""

    def body(self, count: int) -> str:
        return self.head + self.unit * count + self.tail

    def most_units(self) -> int:
        return (BODY_MAX_LENGTH - len(self.head) - len(self.tail)) // len(self.unit)


SHAPES = [
    Shape("table, 2 columns", "|x|y|\n", head="|a|b|\n|---|---|\n"),
    Shape("table, aligned columns", "|1|2|3|\n", head="|a|b|c|\n|:-|:-:|-:|\n"),
    Shape("table, one wide row", "|x", head="|a|b|\n|---|---|\n", tail="|\n"),
    Shape("tables, many small", "|a|\n|-|\n|x|\n\n"),
    Shape("links [a](url)", "[a](https://e.org) "),
    Shape("links, reference style", "[a][r] ", tail="\n\n[r]: https://e.org/\n"),
    Shape("brackets [x]", "[x] "),
    Shape("brackets [x](", "[x]( "),
    Shape("brackets [[[", "["),
    Shape("images ![a](url)", "![a](https://e.org/i.png) "),
    Shape("bare URLs", "https://e.org/a "),
    Shape("bare domains", "e.org "),
    Shape("autolinks <url>", "<https://e.org> "),
    Shape("email addresses", "a@e.org "),
    Shape("mentions @handle", "@member1 "),
    Shape("emphasis *a", "*a "),
    Shape("emphasis *a*", "*a* "),
    Shape("emphasis ** run", "**"),
    Shape("emphasis _ run", "_"),
    Shape("emphasis _a_b", "_a_b "),
    Shape("strikethrough ~~a~~", "~~a~~ "),
    Shape("inline code `a`", "`a` "),
    Shape("backtick runs", "`"),
    Shape("hard line breaks", "a  \n"),
    Shape("list items", "- a\n"),
    Shape("lists, nested", "  - a\n", head="- a\n"),
    Shape("lists, deep", "- ", tail="a\n"),
    Shape("ordered list, deep", "1. ", tail="a\n"),
    Shape("block quotes, deep", ">", tail=" a\n"),
    Shape("block quotes, many lines", "> a\n"),
    Shape("headings", "# h\n"),
    Shape("setext headings", "h\n-\n"),
    Shape("horizontal rules", "---\n\n"),
    Shape("code fences, many", "```\nx\n```\n"),
    Shape("code fence, one big", "x = 1\n", head="```python\n", tail="```\n"),
    Shape("indented code", "    x\n"),
    Shape("paragraphs", "a\n\n"),
    Shape("long word", "a"),
    Shape("long URL", "a", head="https://e.org/"),
    Shape("HTML tags <b>", "<b>"),
    Shape("HTML entities &amp;", "&amp;"),
    Shape("numeric entities &#x41;", "&#x41;"),
    Shape("angle brackets <", "<"),
    Shape("backslash escapes", "\\*"),
    Shape("Arabic text", "مرحبا بالعالم "),
    Shape("prose", "A considered reply about membership inference. "),
]


def accepted_units(shape: Shape) -> int:
    """The most units that validation lets through (check_bounds is monotone in the count)."""
    check = getattr(markup, "check_bounds", None)
    low, high = 0, shape.most_units()
    if check is None or not check(shape.body(high)):
        return high
    while low < high:  # the largest count with no excess
        middle = (low + high + 1) // 2
        if check(shape.body(middle)):
            high = middle - 1
        else:
            low = middle
    return low


def median_ms(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.process_time()  # CPU time: the machine is shared, wall time is noise
        action()
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times)


def measure(shape: Shape, repeat: int) -> dict:
    units = accepted_units(shape)
    body = shape.body(units)
    handles = {"member1"}
    check = getattr(markup, "check_bounds", None)
    return {
        "shape": shape.name,
        "chars": len(body),
        "limited": units < shape.most_units(),
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
markdown-it-py, then bleach). Each shape repeats one unit up to {BODY_MAX_LENGTH:,} characters, or
as far as validation accepts where a limit cuts it (`forum.markup.check_bounds`, enforced at the
body field); each time is the median of {repeat} runs.

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
