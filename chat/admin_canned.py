"""Canned replies in the admin: every operator manages their own and sees the shared
ones; only those with ``chat.manage_shared_cannedreply`` (and superusers) add,
change or delete shared ones. A file is checked as an upload is."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chat.models import CannedReply
from chat.services import canned as canned_services
from chat.uploads import CleanFile, UploadRefused, clean_upload

MANAGE_SHARED = "chat.manage_shared_cannedreply"


def may_manage_shared(user: Any) -> bool:
    return bool(user.is_active and user.is_staff and user.has_perm(MANAGE_SHARED))


class CannedReplyForm(forms.ModelForm):
    shared = forms.BooleanField(
        label=gettext_lazy("Shared with the team"),
        required=False,
        help_text=gettext_lazy("Unticked: only you see and use it."),
    )
    upload = forms.FileField(
        label=gettext_lazy("File"),
        required=False,
        help_text=gettext_lazy(
            "Optional: an image, an audio file or a PDF, sent with the reply."
        ),
    )
    remove_file = forms.BooleanField(
        label=gettext_lazy("Remove the file"), required=False
    )

    class Meta:
        model = CannedReply
        fields = ("shortcut", "title", "body", "language")

    user: Any = None  # set by the admin's get_form
    cleaned_file: CleanFile | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["shared"].initial = self.instance.is_shared
        else:
            self.fields["shared"].initial = False
        if not may_manage_shared(self.user):
            self.fields["shared"].disabled = True

    def clean_shortcut(self) -> str:
        return str(self.cleaned_data["shortcut"]).lstrip("/").lower()

    def clean_upload(self) -> Any:
        upload = self.cleaned_data.get("upload")
        if upload:
            try:
                self.cleaned_file = clean_upload(
                    upload.read(settings.SOHBET_MAX_UPLOAD_BYTES + 1),
                    name=upload.name or "",
                )
            except UploadRefused as refused:
                raise forms.ValidationError(refused.detail) from None
        return upload

    def target_owner_id(self) -> int | None:
        if self.cleaned_data.get("shared"):
            return None
        if self.instance.pk is not None and self.instance.owner_id is not None:
            return self.instance.owner_id  # a superuser editing someone's own
        return getattr(self.user, "pk", None)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        shortcut = data.get("shortcut")
        if shortcut:
            owner_id = self.target_owner_id()
            clash = CannedReply.objects.filter(
                shortcut__iexact=shortcut, owner_id=owner_id
            ).exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error(
                    "shortcut",
                    _("A shared reply has this shortcut already.")
                    if owner_id is None
                    else _("You have a reply with this shortcut already."),
                )
        return data


class WhoseFilter(admin.SimpleListFilter):
    title = gettext_lazy("whose")
    parameter_name = "whose"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return [("shared", _("Shared")), ("mine", _("Mine"))]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() == "shared":
            return queryset.filter(owner__isnull=True)
        if self.value() == "mine":
            return queryset.filter(owner_id=request.user.pk)
        return queryset


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    form = CannedReplyForm
    list_display = ("shortcut_text", "title", "owner_text", "language", "file_text")
    list_display_links = ("shortcut_text", "title")
    list_filter = (WhoseFilter, "language")
    search_fields = ("shortcut", "title", "body")
    list_select_related = ("owner",)
    readonly_fields = ("current_file",)
    actions = ["delete_selected"]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ["shortcut", "title", "body", "language", "shared", "upload"]
        if obj is not None and obj.file:
            fields += ["current_file", "remove_file"]
        return [(None, {"fields": fields})]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        kwargs["fields"] = ("shortcut", "title", "body", "language")
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"user": request.user})

    def get_queryset(self, request: HttpRequest) -> QuerySet[CannedReply]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(Q(owner_id=request.user.pk) | Q(owner__isnull=True))

    # Every operator has their own replies: staff status is enough.
    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not self.has_module_permission(request):
            return False
        if obj is None:
            return True
        if obj.owner_id is None:
            return may_manage_shared(request.user)
        return obj.owner_id == request.user.pk or request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_change_permission(request, obj)

    def save_model(
        self, request: HttpRequest, obj: Any, form: Any, change: bool
    ) -> None:
        obj.owner_id = form.target_owner_id()
        canned_services.save_canned_reply(
            reply=obj,
            file=form.cleaned_file,
            remove_file=bool(form.cleaned_data.get("remove_file")),
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        canned_services.delete_canned_replies(replies=[obj])

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        replies = list(queryset)
        if not may_manage_shared(request.user) and any(r.is_shared for r in replies):
            replies = [r for r in replies if not r.is_shared]
        if not request.user.is_superuser:
            replies = [r for r in replies if r.owner_id in (None, request.user.pk)]
        canned_services.delete_canned_replies(replies=replies)

    @admin.display(description=gettext_lazy("shortcut"), ordering="shortcut")
    def shortcut_text(self, obj: CannedReply) -> str:
        return f"/{obj.shortcut}"

    @admin.display(description=gettext_lazy("owner"), ordering="owner")
    def owner_text(self, obj: CannedReply) -> str:
        return obj.owner.display_name if obj.owner else _("Shared")

    @admin.display(description=gettext_lazy("file"))
    def file_text(self, obj: CannedReply) -> str:
        return obj.file_name if obj.file else ""

    @admin.display(description=gettext_lazy("current file"))
    def current_file(self, obj: CannedReply) -> str:
        if not obj.file:
            return ""
        return f"{obj.file_name} ({filesizeformat(obj.file_size)})"
