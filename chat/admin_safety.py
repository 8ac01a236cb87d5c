"""Blocks and ratings in the admin: the blocks (add one for a visitor or a network,
lift selected ones), the actions on the visitors' list, and the ratings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from chat import safety, services
from chat.exceptions import ChatError
from chat.models import Block, Rating, Visitor


class BlockForm(forms.ModelForm):
    whole_network = forms.BooleanField(
        label=_("Also block their network"),
        required=False,
        help_text=_(
            "The /24 (IPv4) or /64 (IPv6) network the visitor's last visit came "
            "from, when it is known (a week)."
        ),
    )

    class Meta:
        model = Block
        fields = ("visitor", "network", "reason")
        help_texts = {
            "network": _(
                "Or an address or network alone, e.g. 203.0.113.7 or 203.0.113.0/24."
            ),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        network = (data.get("network") or "").strip()
        if data.get("visitor") is None and not network:
            raise forms.ValidationError(_("Choose a visitor or enter a network."))
        if network:
            try:
                data["network"] = safety.parse_network(network)
            except ValueError:
                self.add_error(
                    "network", _("Enter an address or a network, e.g. 203.0.113.0/24.")
                )
        return data


class ActiveFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "active"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Active")), ("no", _("Lifted"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Block]) -> Any:
        if self.value() in ("yes", "no"):
            return queryset.filter(lifted_at__isnull=self.value() == "yes")
        return queryset


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin):
    form = BlockForm
    list_display = (
        "id",
        "visitor",
        "network",
        "reason",
        "source",
        "blocked_by",
        "created_at",
        "lifted_at",
    )
    list_filter = (ActiveFilter, "source")
    list_select_related = ("visitor", "blocked_by")
    search_fields = ("reason", "network")
    raw_id_fields = ("visitor",)
    actions = ["lift_selected"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # lifted, not deleted: who blocked whom stays on record

    def save_model(
        self, request: HttpRequest, obj: Block, form: Any, change: bool
    ) -> None:
        data = form.cleaned_data
        user = request.user if request.user.is_authenticated else None
        block = None
        if obj.visitor_id is not None:
            block = services.block_visitor(
                visitor_id=obj.visitor_id,
                reason=obj.reason,
                by=user,
                source=Block.Source.ADMIN,
                network=data.get("whole_network", False),
            )
        if obj.network:
            block = services.block_network(
                network=obj.network, reason=obj.reason, by=user
            )
        assert block is not None  # noqa: S101 - the form requires one
        obj.pk = block.pk

    @admin.action(description=_("Unblock selected"))
    def lift_selected(self, request: HttpRequest, queryset: QuerySet[Block]) -> None:
        user = request.user if request.user.is_authenticated else None
        count = services.lift_blocks(
            block_ids=list(queryset.values_list("pk", flat=True)), by=user
        )
        self.message_user(
            request,
            ngettext("%(count)d block lifted.", "%(count)d blocks lifted.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.action(description=_("Block selected visitors…"))
def block_visitors(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[Visitor]
) -> HttpResponse | None:
    """One visitor: the block's page, to give a reason; several: blocked at once."""
    ids = list(queryset.values_list("pk", flat=True))
    if len(ids) == 1:
        url = reverse("admin:chat_block_add")
        return HttpResponseRedirect(f"{url}?visitor={ids[0]}")
    user = request.user if request.user.is_authenticated else None
    for visitor_id in ids:
        try:
            services.block_visitor(visitor_id=visitor_id, by=user)
        except ChatError:
            continue  # erased meanwhile
    modeladmin.message_user(
        request,
        ngettext("%(count)d visitor blocked.", "%(count)d visitors blocked.", len(ids))
        % {"count": len(ids)},
        messages.SUCCESS,
    )
    return None


@admin.action(description=_("Unblock selected visitors"))
def unblock_visitors(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[Visitor]
) -> None:
    user = request.user if request.user.is_authenticated else None
    count = 0
    for visitor_id in list(queryset.values_list("pk", flat=True)):
        count += services.unblock_visitor(visitor_id=visitor_id, by=user)
    modeladmin.message_user(
        request,
        ngettext("%(count)d block lifted.", "%(count)d blocks lifted.", count)
        % {"count": count},
        messages.SUCCESS,
    )


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ("thread", "score", "comment", "created_at")
    list_filter = ("score",)
    list_select_related = ("thread",)
    date_hierarchy = "created_at"
    search_fields = ("comment",)
    readonly_fields = ("thread", "score", "comment", "created_at", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
