"""What every request is checked for before a route sees it: text no database can store, and JSON nested
deeper than Python's parser goes. Either is a 400 with a plain message, never a 500.

PostgreSQL refuses the NUL character in text and JSON, and no UTF-8 encoder takes an unpaired surrogate
(``"\\ud800"`` is valid JSON); both would otherwise fail deep in a save. JSON nested a few thousand
levels deep exhausts the parser's recursion; the app's own data is at most 32 levels deep
(``engine/data_rules``), so this is only ever an attack or a broken client.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MESSAGE = "text may not hold the NUL character or an unpaired surrogate"


class StorableJSONProvider(DefaultJSONProvider):
    """Flask's JSON, whose ``loads`` refuses (with ValueError, which Flask answers as 400) what cannot be
    stored or parsed."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse ``s``; ValueError for nesting beyond the parser, or unstorable text in a key or a value."""
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("the JSON is nested too deeply") from None
        if _holds_unstorable(value):
            raise ValueError(MESSAGE)
        return value


def _holds_unstorable(value: Any) -> bool:
    """True if any text in ``value`` (walked without recursion) holds a character no database stores."""
    waiting = [value]
    while waiting:
        item = waiting.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return True
        elif isinstance(item, dict):
            waiting.extend(item.keys())
            waiting.extend(item.values())
        elif isinstance(item, list):
            waiting.extend(item)
    return False


def _refuse_unstorable_form_text() -> None:
    if request.method == "POST" and any(
            _UNSTORABLE.search(value) for values in request.form.listvalues() for value in values):
        raise BadRequest(f"The form's {MESSAGE}: remove it and send it again")


def init(app: Flask) -> None:
    """Check the app's JSON and form input."""
    app.json_provider_class = StorableJSONProvider
    app.json = StorableJSONProvider(app)
    app.before_request(_refuse_unstorable_form_text)
