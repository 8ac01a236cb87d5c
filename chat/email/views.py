"""The pages an email's links open: reopen the conversation on this browser, and
unsubscribe (one click, no sign-in)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from chat import selectors, services
from chat.email import links
from chat.models import Visitor
from realtime.clientip import client_key

logger = logging.getLogger(__name__)

LINK_RATE = "30/m"  # per client IP


@never_cache
@require_http_methods(["GET"])
@ratelimit(key=client_key, rate=LINK_RATE, group="chat.email.links")
def resume(request: HttpRequest, token: str) -> HttpResponse:
    """Point this browser at the email's visitor (chat.services.attach_session) and
    land on the chat page; ``?file=<id>``: then on one of their files. An expired
    or forged link gets a page that says so."""
    visitor_id = links.visitor_of_resume_token(token)
    if visitor_id is None or not Visitor.objects.filter(pk=visitor_id).exists():
        return render(request, "chat/email/link_expired.html", status=410)
    if not request.session.session_key:
        request.session.save()
    with transaction.atomic():
        services.attach_session(request.session, visitor_id)
    target = reverse("visitor-page")
    file_id = request.GET.get("file", "")
    if file_id.isdigit():
        found = selectors.get_attachment(attachment_id=int(file_id))
        if found is not None and found.thread.visitor_id == visitor_id:
            target = reverse("attachment", args=[found.pk, found.name])
    return HttpResponseRedirect(target)


@never_cache
@csrf_exempt  # the signed token is the proof; mail clients POST it (RFC 8058)
@require_http_methods(["GET", "POST"])
@ratelimit(key=client_key, rate=LINK_RATE, group="chat.email.links")
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET or a mail client's one-click POST: no more email. A POST with
    ``resubscribe`` (the page's button) takes it back."""
    visitor_id = links.visitor_of_unsubscribe_token(token)
    if visitor_id is None:
        return render(request, "chat/email/link_expired.html", status=404)
    if request.method == "POST" and request.POST.get("resubscribe"):
        services.resubscribe_visitor(visitor_id=visitor_id)
        return render(
            request,
            "chat/email/unsubscribed.html",
            {"subscribed": True, "token": token},
        )
    services.unsubscribe_visitor(visitor_id=visitor_id)
    return render(
        request, "chat/email/unsubscribed.html", {"subscribed": False, "token": token}
    )
