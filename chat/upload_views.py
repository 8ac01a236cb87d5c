"""Uploading attachments and fetching them back, for the thread's people only."""

from __future__ import annotations

import logging
import re
from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.utils.crypto import salted_hmac
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe
from django_ratelimit.core import is_ratelimited

from accounts.selectors import is_second_factor_satisfied
from chat import safety, selectors, services
from chat.events import attachment_payload
from chat.models import Attachment
from chat.sessions import VISITOR_SESSION_KEY
from chat.uploads import UploadRefused, clean_upload
from chat.widget import grants
from realtime.cache import CountersUnavailable
from realtime.clientip import client_key, get_client_ip
from realtime.ratelimit import hit_many

logger = logging.getLogger(__name__)

INLINE_TYPES = ("image/", "audio/", "video/webm")
UPLOAD_RATE = "60/m"  # per client IP (django-ratelimit rate)


def _error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "detail": detail}}, status=status)


def _is_operator(request: HttpRequest) -> bool:
    user = request.user
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and is_second_factor_satisfied(user=user, session=request.session)
    )


def _visitor_thread_id(request: HttpRequest) -> int | None:
    """The thread of the session's visitor; one drawn for the session and not
    written yet is written now (a file before the first message)."""
    visitor_id = request.session.get(VISITOR_SESSION_KEY)
    if visitor_id is None:
        return None
    thread = selectors.get_visitor_thread(visitor_id=visitor_id)
    if thread is not None:
        return thread.pk
    new = services.drawn_conversation(
        request.session,
        locale=get_language() or "",
        user_agent=request.headers.get("user-agent", ""),
    )
    if new is None:
        return None
    services.store_conversation(new)
    return new.thread_id


def _kept_out(request: HttpRequest) -> JsonResponse | None:
    """A blocked visitor or network is refused neutrally (chat.safety); a file
    that would start a conversation counts against the limits on new ones."""
    visitor_id = request.session.get(VISITOR_SESSION_KEY)
    if safety.is_blocked(visitor_id=visitor_id, address=get_client_ip(request)):
        refusal = safety.unavailable()
        return _error(403, str(refusal.code), str(refusal.detail))
    if visitor_id is not None and selectors.get_visitor_thread(visitor_id=visitor_id):
        return None
    if not all(hit_many(safety.new_thread_limits(client_key(None, request)))):
        refusal = safety.too_many_threads()
        return _error(429, str(refusal.code), str(refusal.detail))
    return None


def _uploader_key(request: HttpRequest) -> str:
    """The key the per-address quota counts an upload under: the client's network
    (an IPv4 address, an IPv6 /64), hashed with the site's secret."""
    network = client_key(None, request)
    return salted_hmac("chat.upload_views.uploader", network).hexdigest()[:32]


def _over_quota(
    usage: tuple[int, int], *, per_hour: int, bytes_per_day: int
) -> JsonResponse | None:
    hour_count, day_bytes = usage
    if hour_count >= per_hour:
        return _error(
            429, "rate_limited", _("Too many files at once. Please wait a little.")
        )
    if day_bytes >= bytes_per_day:
        return _error(
            429, "quota_exceeded", _("You have sent as many files as allowed today.")
        )
    return None


@require_POST
@never_cache
def upload(request: HttpRequest) -> HttpResponse:
    """Store one file for the visitor's thread (or, for an operator, ``thread``).

    The answer is the attachment as messages carry it; send it with ``message.send``.
    Rate-limited per client (IP, IPv6 /64), failing open while Redis is down; the
    hourly and daily quotas per visitor and per client address (counted in the
    database) apply whatever the session.
    """
    try:
        limited = is_ratelimited(
            request,
            group="chat.upload",
            key=client_key,
            rate=UPLOAD_RATE,
            increment=True,
        )
    except CountersUnavailable:
        logger.warning("upload accepted without its IP rate limit: Redis unavailable")
        limited = False
    if limited:
        return _error(
            429, "rate_limited", _("Too many files at once. Please wait a little.")
        )
    operator_id = None
    if _is_operator(request) and request.POST.get("thread"):
        try:
            thread_id = int(request.POST["thread"])
        except ValueError:
            return _error(400, "invalid", _("“thread” must be a conversation id."))
        try:
            selectors.get_thread_for_operator(thread_id=thread_id)
        except Exception:
            return _error(404, "not_found", _("This conversation does not exist."))
        uploaded_by, operator_id, uploader_key = "operator", request.user.pk, ""
    else:
        kept_out = _kept_out(request)
        if kept_out is not None:
            return kept_out
        visitor_thread = _visitor_thread_id(request)
        if visitor_thread is None:
            return _error(403, "forbidden", _("Open the chat before sending a file."))
        thread_id, uploaded_by = visitor_thread, "visitor"
        uploader_key = _uploader_key(request)
        over = _over_quota(
            selectors.get_upload_usage(visitor_id=request.session[VISITOR_SESSION_KEY]),
            per_hour=settings.SOHBET_UPLOADS_PER_HOUR,
            bytes_per_day=settings.SOHBET_UPLOAD_BYTES_PER_DAY,
        ) or _over_quota(
            selectors.get_upload_usage(uploader_key=uploader_key),
            per_hour=settings.SOHBET_ADDRESS_UPLOADS_PER_HOUR,
            bytes_per_day=settings.SOHBET_ADDRESS_UPLOAD_BYTES_PER_DAY,
        )
        if over is not None:
            return over
    if len(request.FILES) > 1 or len(request.FILES.getlist("file")) > 1:
        # Requests may carry more (the admin's avatars): an upload is one file.
        return _error(400, "invalid", _("Send one file at a time."))
    file = request.FILES.get("file")
    if file is None:
        return _error(400, "invalid", _("Choose a file to send."))
    if file.size is not None and file.size > settings.SOHBET_MAX_UPLOAD_BYTES:
        refused = UploadRefused(
            "too_large",
            _("This file is too large (the limit is %(mb)s MB).")
            % {"mb": settings.SOHBET_MAX_UPLOAD_BYTES // (1024 * 1024)},
        )
        return _error(413, refused.code, refused.detail)
    data = file.read(settings.SOHBET_MAX_UPLOAD_BYTES + 1)
    try:
        cleaned = clean_upload(data, name=file.name or "")
    except UploadRefused as refused:
        status = {"too_large": 413, "unsupported_type": 415}.get(refused.code, 400)
        return _error(status, refused.code, refused.detail)
    try:
        attachment = services.store_attachment(
            thread_id=thread_id,
            uploaded_by=uploaded_by,
            operator_id=operator_id,
            cleaned=cleaned,
            uploader_key=uploader_key,
        )
    except Exception:
        logger.exception("storing an upload failed")
        return _error(
            503, "unavailable", _("The file could not be stored. Please try again.")
        )
    return JsonResponse(attachment_payload(attachment), status=201)


@require_safe
def attachment(request: HttpRequest, pk: int, name: str) -> HttpResponseBase:
    """The file, to its thread's visitor and to operators; 404 to anyone else."""
    found = selectors.get_attachment(attachment_id=pk)
    if found is None or not _may_see(request, found):
        return HttpResponse(status=404)
    try:
        handle = found.file.open("rb")
    except (OSError, ValueError):
        logger.warning("attachment %s is missing from storage", pk)
        return HttpResponse(status=404)
    inline = found.content_type.startswith(INLINE_TYPES)
    wanted = _byte_range(request, found.size)
    if wanted is None:
        response: HttpResponseBase = FileResponse(
            handle,
            content_type=found.content_type,
            as_attachment=not inline,
            filename=found.name,
        )
    else:
        response = _partial(handle, wanted, found)
        disposition = content_disposition_header(not inline, found.name)
        if disposition:
            response["Content-Disposition"] = disposition
    response["Accept-Ranges"] = "bytes"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


RANGE = re.compile(r"bytes=(\d*)-(\d*)")
NOT_SATISFIABLE = (-1, -1)


def _byte_range(request: HttpRequest, size: int) -> tuple[int, int] | None:
    """The one byte range asked for (first, last), NOT_SATISFIABLE, or None to send
    the whole file. Media players ask for ranges (Safari plays no audio or video
    from a server that does not answer them); several ranges, or an If-Range we
    cannot check, get the whole file, as RFC 9110 allows."""
    header = request.headers.get("Range", "")
    if not header or "If-Range" in request.headers:
        return None
    match = RANGE.fullmatch(header.strip())
    if match is None or not (match[1] or match[2]):
        return None
    if not match[1]:  # the last N bytes
        length = int(match[2])
        return (max(0, size - length), size - 1) if length and size else NOT_SATISFIABLE
    first = int(match[1])
    last = min(int(match[2]), size - 1) if match[2] else size - 1
    if first >= size or first > last:
        return NOT_SATISFIABLE
    return first, last


def _partial(handle: Any, wanted: tuple[int, int], found: Attachment) -> HttpResponse:
    try:
        if wanted == NOT_SATISFIABLE:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{found.size}"
            return response
        first, last = wanted
        handle.seek(first)
        body = handle.read(last - first + 1)  # at most SOHBET_MAX_UPLOAD_BYTES
    finally:
        handle.close()
    response = HttpResponse(body, status=206, content_type=found.content_type)
    response["Content-Range"] = f"bytes {first}-{first + len(body) - 1}/{found.size}"
    return response


def _may_see(request: HttpRequest, found: Attachment) -> bool:
    if _is_operator(request):
        return True
    visitor_id = request.session.get(VISITOR_SESSION_KEY)
    if visitor_id is None:  # the widget's frame, without cookies: a media grant
        visitor_id = grants.granted_visitor(request.GET.get(grants.PARAMETER))
    return visitor_id is not None and visitor_id == found.thread.visitor_id
