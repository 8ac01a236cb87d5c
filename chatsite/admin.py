"""Sohbet's admin site: Django's, with a second factor at sign-in.

Installed as the default ``admin.site`` by ``chatsite.apps.SohbetAdminConfig``, so
``admin.site.register``, ``@admin.register`` and ``admin.site.admin_view`` (the inbox,
the Telegram page) all go through ``has_permission`` below.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from accounts.password_views import PasswordLoginView, password_step_ratelimit
from accounts.selectors import is_second_factor_satisfied


class SohbetAdminSite(admin.AdminSite):
    site_header = gettext_lazy("Sohbet")
    site_title = gettext_lazy("Sohbet")
    index_title = gettext_lazy("Administration")

    def has_permission(self, request: HttpRequest) -> bool:
        """Active staff whose session completed the second factor when one is
        required (see accounts.selectors.is_second_factor_satisfied)."""
        return super().has_permission(request) and is_second_factor_satisfied(
            user=request.user, session=request.session
        )

    @method_decorator(never_cache)
    @method_decorator(password_step_ratelimit)
    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Step 1 of the sign-in: Django's admin login, except that a user who needs
        a second factor goes on to /admin/login/code/ instead of being signed in."""
        if request.method in ("GET", "HEAD") and self.has_permission(request):
            return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
        context: dict[str, Any] = {
            **self.each_context(request),
            "title": _("Log in"),
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": request.user.get_username(),
        }
        if (
            REDIRECT_FIELD_NAME not in request.GET
            and REDIRECT_FIELD_NAME not in request.POST
        ):
            context[REDIRECT_FIELD_NAME] = reverse("admin:index", current_app=self.name)
        context.update(extra_context or {})
        request.current_app = self.name
        view = PasswordLoginView.as_view(
            extra_context=context,
            authentication_form=self.login_form or AdminAuthenticationForm,
            template_name=self.login_template or "admin/login.html",
        )
        # A page or a redirect: never a streaming response.
        return cast(HttpResponse, view(request))
