from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.cache import cache_page
from django.views.i18n import JavaScriptCatalog, set_language

from chat import (
    admin_views,
    appearance_views,
    data_views,
    device_views,
    upload_views,
    views,
)
from chat.email import views as email_views
from chat.push import views as push_views
from chat.widget import views as widget_views
from chatsite import views as site_views
from telegram_bridge import visitor_views as telegram_visitor_views

urlpatterns = [
    path("", views.visitor_page, name="visitor-page"),
    path("api/uploads/", upload_views.upload, name="upload"),
    path("continue/", device_views.continue_page, name="continue"),
    path("device/code/", device_views.issue_code, name="device-code"),
    path("device/redeem/", device_views.redeem_code, name="device-redeem"),
    path("device/sign-out/", device_views.sign_out, name="device-sign-out"),
    path("telegram/link/", telegram_visitor_views.issue_link, name="telegram-link"),
    path(
        "widget/telegram/link/",
        telegram_visitor_views.issue_link,
        name="widget-telegram-link",
    ),
    path("widget.js", widget_views.loader, name="widget-loader"),
    path("widget/frame/", widget_views.frame, name="widget-frame"),
    path("widget/jsi18n/", widget_views.catalog, name="widget-catalog"),
    path("widget/session/", widget_views.session, name="widget-session"),
    path("widget/identify/", widget_views.identify, name="widget-identify"),
    path("widget/device/code/", device_views.issue_code, name="widget-device-code"),
    path(
        "widget/device/redeem/", device_views.redeem_code, name="widget-device-redeem"
    ),
    path(
        "widget/device/sign-out/",
        device_views.sign_out,
        name="widget-device-sign-out",
    ),
    path(
        "attachments/<int:pk>/<path:name>", upload_views.attachment, name="attachment"
    ),
    re_path(
        r"^theme/(?P<color>[0-9a-f]{6})\.css\Z",
        appearance_views.theme_css,
        name="theme-css",
    ),
    path(
        "team/avatars/<int:pk>.webp", appearance_views.team_avatar, name="team-avatar"
    ),
    path("email/open/<str:token>/", email_views.resume, name="email-resume"),
    path(
        "email/unsubscribe/<str:token>/",
        email_views.unsubscribe,
        name="email-unsubscribe",
    ),
    # Web Push and the service workers (docs/notifications.md).
    path(
        "admin/inbox/sw.js",
        push_views.service_worker,
        {"scope": "inbox"},
        name="push-inbox-worker",
    ),
    path("sw.js", push_views.service_worker, {"scope": "visitor"}, name="push-worker"),
    path("offline/", push_views.offline_page, name="push-offline"),
    path(
        "admin/inbox/push/subscription/",
        admin.site.admin_view(push_views.operator_subscription),
        name="push-operator-subscription",
    ),
    path(
        "admin/inbox/push/preferences/",
        admin.site.admin_view(push_views.preferences),
        name="push-preferences",
    ),
    path(
        "push/subscription/",
        push_views.visitor_subscription,
        name="push-visitor-subscription",
    ),
    path("admin/inbox/", admin.site.admin_view(admin_views.inbox), name="inbox"),
    re_path(
        r"^admin/chat/thread/(?P<thread_id>[0-9]+)/"
        r"transcript\.(?P<extension>html|pdf)\Z",
        admin.site.admin_view(data_views.transcript),
        name="transcript",
    ),
    path(
        "admin/chat/visitor/<int:visitor_id>/export.json",
        admin.site.admin_view(data_views.visitor_export),
        name="visitor-export",
    ),
    # Sign-in steps and the Telegram page, before the admin's catch-all.
    path("admin/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path(
        "jsi18n/",
        cache_page(3600)(JavaScriptCatalog.as_view(packages=["chat"])),
        name="javascript-catalog",
    ),
    path("i18n/setlang/", set_language, name="set_language"),
    path("favicon.ico", views.favicon),
    # Liveness (answered early by chatsite.middleware.LivenessProbeMiddleware) and
    # health; /health without the slash is the old system's path.
    path("healthz/", site_views.liveness, name="liveness"),
    path("health/", site_views.health, name="health"),
    path("health", site_views.health),
]
