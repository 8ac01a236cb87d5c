"""Downloads for operators, inside the admin (wrapped by admin_view): a
conversation's transcript (HTML or PDF; from the inbox and the conversation's admin
page) and a visitor's data (JSON; beside the erasure on the visitor's admin page)."""

from __future__ import annotations

import json
import logging

from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_safe

from chat import selectors, transcript_pdf, transcripts
from chat.exceptions import ChatError
from chat.exports import attachment_disposition, visitor_data
from chat.models import Visitor

logger = logging.getLogger(__name__)

# What an operator downloads may be opened in the browser: it runs nothing.
DOWNLOAD_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'"
EXPORT_PERMISSION = "chat.view_conversationexport"


def _download(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = attachment_disposition(filename)
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_safe
def transcript(request: HttpRequest, thread_id: str, extension: str) -> HttpResponse:
    """The conversation as ``html`` or ``pdf``, times in ``?tz=`` (the operator's
    browser's zone) or the site's. A PDF without its font falls back to HTML."""
    if not request.user.has_perm("chat.view_thread"):
        raise PermissionDenied
    try:
        thread = selectors.get_thread_for_operator(thread_id=int(thread_id))
    except ChatError as exc:
        raise Http404 from exc
    tz = transcripts.resolve_time_zone(request.GET.get("tz"))
    document = transcripts.get_transcript(
        thread=thread, absolute=request.build_absolute_uri, tz=tz
    )
    if extension == "pdf":
        try:
            body = transcript_pdf.render_pdf(document)
        except transcript_pdf.PdfUnavailable:
            logger.warning("PDF transcript without its font: HTML sent instead")
            html_url = reverse("transcript", args=[thread.pk, "html"])
            query = request.GET.urlencode()
            return HttpResponseRedirect(html_url + (f"?{query}" if query else ""))
        return _download(
            HttpResponse(body, content_type="application/pdf"),
            transcripts.filename(document, "pdf"),
        )
    return _download(
        HttpResponse(
            transcripts.render_html(document), content_type="text/html; charset=utf-8"
        ),
        transcripts.filename(document, "html"),
    )


@require_safe
def visitor_export(request: HttpRequest, visitor_id: int) -> HttpResponse:
    """Everything stored about a visitor as JSON (chat.exports.visitor_data), for
    those who may export conversations."""
    if not request.user.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied
    visitor = Visitor.objects.filter(pk=visitor_id).first()
    if visitor is None:
        raise Http404
    data = visitor_data(visitor=visitor, absolute=request.build_absolute_uri)
    logger.info("visitor %s: data exported by user %s", visitor.pk, request.user.pk)
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    return _download(
        HttpResponse(body, content_type="application/json; charset=utf-8"),
        f"visitor-{visitor.pk}.json",
    )
