from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from chat import notes, selectors, uploads
from chat.push.release import push_config


def inbox(request: HttpRequest) -> HttpResponse:
    """The operators' live inbox, inside the admin (wrapped by admin_view)."""
    user = request.user
    get_token(request)  # the CSRF cookie that uploads send back
    context = {
        **admin.site.each_context(request),
        "title": _("Inbox"),
        "inbox_config": {
            "wsPath": "/ws/operator/",
            "me": {"id": user.pk, "name": getattr(user, "display_name", str(user))},
            "operators": selectors.list_operators(),
            "mentionable": notes.list_mentionable(),
            "threadAdminUrl": reverse("admin:chat_thread_change", args=[0]),
            **uploads.client_config(),
            "push": push_config(operator=True),
        },
    }
    return TemplateResponse(request, "admin/chat/inbox.html", context)
