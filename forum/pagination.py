"""A page of a longer list: what list pages and their pagination controls need."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


@dataclass(frozen=True)
class Walk:
    """How a page's rows are picked from an ordered index: ``backwards`` from the far end in
    the opposite order, skipping ``offset`` rows and taking ``limit``."""

    backwards: bool
    limit: int
    offset: int


def walk_to(page: int, per_page: int, total: int) -> Walk:
    """Past the middle a page is read from the far end (issue 15): the last page skips
    nothing, no page skips more than half the list. ``total`` must be the exact count."""
    skipped, after = (page - 1) * per_page, total - page * per_page
    if page > 1 and after < skipped:
        return Walk(True, min(per_page, total - skipped), max(0, after))
    return Walk(False, per_page, skipped)
