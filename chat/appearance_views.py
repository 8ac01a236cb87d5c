"""What the visitor's page loads of the appearance: the colour as a style sheet (the
page's CSP allows no inline style) and the team's avatars. Both are public and never
change under their URL: browsers and proxies keep them for a year."""

from __future__ import annotations

import logging

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_safe

from chat import colors
from chat.appearance import get_team_avatar

logger = logging.getLogger(__name__)

FOREVER = "public, max-age=31536000, immutable"


@require_safe
def theme_css(request: HttpRequest, color: str) -> HttpResponse:
    """The page's colours for ``color`` (six lowercase hex digits, from the URL):
    a pure function of it, so no row is read."""
    response = HttpResponse(
        colors.theme_css("#" + color), content_type="text/css; charset=utf-8"
    )
    response["Cache-Control"] = FOREVER
    return response


@require_safe
def team_avatar(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A team avatar (WebP, made by chat.avatars); the widget's launcher may show it
    on another site, hence ``cross-origin``."""
    avatar = get_team_avatar(avatar_id=pk)
    if avatar is None:
        raise Http404
    try:
        handle = avatar.file.open("rb")
    except (OSError, ValueError):
        logger.warning("team avatar %s is missing from storage", pk)
        raise Http404 from None
    response = FileResponse(handle, content_type="image/webp")
    response["Cache-Control"] = FOREVER
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
