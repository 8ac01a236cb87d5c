"""Pages whose HTML is the same for everyone with the same context but for the CSRF
token: rendered once per process and context (a language, the appearance, the reply
time: a handful of them), and served with each request's own token put in. Django's
template engine was a fifth of the chat page's CPU (docs/performance.md)."""

from __future__ import annotations

import json
import secrets
import threading
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.translation import get_language, get_language_bidi

# Stands for the token in a rendered page: random per process, so that no text an
# admin or a visitor writes can hold it.
TOKEN_PLACEHOLDER = "csrf-placeholder-" + secrets.token_hex(16)
KEPT = 32  # rendered pages kept per process (a new one past it starts afresh)

_pages: dict[str, list[str]] = {}  # each page, split where its token goes
_lock = threading.Lock()


def render_page(
    request: HttpRequest, template_name: str, context: dict[str, Any]
) -> HttpResponse:
    """``render(request, template_name, context)`` for a template that reads nothing
    of the request but its CSRF token (no ``request``, ``user`` or ``messages``):
    ``context`` must be JSON (it is the key)."""
    key = json.dumps(
        [template_name, get_language(), get_language_bidi(), context], sort_keys=True
    )
    parts = _pages.get(key)
    if parts is None:
        html = render_to_string(
            template_name, {**context, "csrf_token": TOKEN_PLACEHOLDER}
        )
        parts = html.split(TOKEN_PLACEHOLDER)
        with _lock:
            if len(_pages) >= KEPT:
                _pages.clear()
            _pages[key] = parts
    # A page without a form asks for no token (and sets no CSRF cookie).
    return HttpResponse(get_token(request).join(parts) if len(parts) > 1 else parts[0])
