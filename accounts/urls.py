"""Second-factor sign-in steps and the Telegram page, mounted under /admin/ (before
the admin's own URLs) by chatsite/urls.py."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from accounts import code_views, telegram_views

app_name = "accounts"

urlpatterns = [
    path("login/code/", code_views.login_code, name="login-code"),
    path("login/code/resend/", code_views.login_code_resend, name="login-code-resend"),
    path("login/recovery/", code_views.login_recovery, name="login-recovery"),
    path(
        "telegram/",
        admin.site.admin_view(telegram_views.telegram_page),
        name="telegram",
    ),
]
