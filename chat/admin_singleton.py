"""An admin page for a model of one row (the appearance, the business hours): the
list opens that row; it is edited, never added or deleted."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse


class SingletonAdmin(admin.ModelAdmin):
    singleton_id = 1

    def singleton_default(self) -> models.Model:
        """The row as it is until it is first saved."""
        return self.model(pk=self.singleton_id)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the one row is edited, never added

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Any:
        """The one row; its defaults until it is first saved."""
        if object_id != str(self.singleton_id):
            return None
        row = self.model.objects.filter(pk=self.singleton_id).first()
        return row or self.singleton_default()

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        meta = self.model._meta
        return HttpResponseRedirect(
            reverse(
                f"admin:{meta.app_label}_{meta.model_name}_change",
                args=[self.singleton_id],
            )
        )
