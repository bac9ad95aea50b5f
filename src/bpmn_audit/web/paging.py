"""The page number a list page was asked for."""

from __future__ import annotations

from flask import request

#: the highest page number taken; beyond it, the first page
MAX_PAGE_NUMBER = 999_999


def requested_page() -> int:
    """``?page=N`` as a whole number from 1; anything else (missing, not ASCII digits, too big) is page 1."""
    page = request.args.get("page", "1")
    if page.isascii() and page.isdigit() and len(page) < 7 and 0 < int(page) <= MAX_PAGE_NUMBER:
        return int(page)
    return 1
