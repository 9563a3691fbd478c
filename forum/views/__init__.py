"""Blueprints: parse the request, call a service, then flash, redirect or render."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request


def page_arg() -> int:
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and int(value) > 0 else 1


def safe_next(target: str | None, default: str) -> str:
    """Follow ?next= only to a path on this site (no open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target
