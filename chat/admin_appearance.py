"""The appearance's page in the admin: the one row of settings (no list, no adding,
no deleting), the team's avatars uploaded on it, and a live preview
(static/chat/appearance-admin.js; the admin's CSP allows no inline script)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chat import appearance, services
from chat.admin_singleton import SingletonAdmin
from chat.avatars import clean_avatar
from chat.models import APPEARANCE_ID, MAX_TEAM_AVATARS, Appearance, TeamAvatar
from chat.services.appearance import too_many_avatars_message
from chat.uploads import UploadRefused

TEXT_FIELDS = ("launcher_label", "greeting", "team_name")
SETTINGS = (  # the form's fields that are Appearance's
    "color",
    "position",
    *(f"{name}_{lang}" for name in TEXT_FIELDS for lang in ("en", "tr")),
)
IMAGE_TYPES = "image/jpeg,image/png,image/gif,image/webp"


class MultipleImageInput(forms.FileInput):
    allow_multiple_selected = True


class ImagesField(forms.FileField):
    """Several files from one input (Django's documented pattern); a list."""

    widget = MultipleImageInput

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = data if isinstance(data, list | tuple) else [data]
        single = super().clean
        return [f for f in (single(file, initial) for file in files) if f]


class AvatarChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: TeamAvatar) -> str:
        added = date_format(localtime(obj.created_at), "SHORT_DATETIME_FORMAT")
        return format_html(
            '<img src="{}" alt="" width="40" height="40" class="appearance-avatar"> {}',
            reverse("team-avatar", args=[obj.pk]),
            _("Remove the avatar added %(date)s") % {"date": added},
        )


class AppearanceForm(forms.ModelForm):
    remove_avatars = AvatarChoice(
        label=gettext_lazy("Current avatars"),
        queryset=TeamAvatar.objects.order_by("pk"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Tick an avatar to remove it when you save."),
    )
    new_avatars = ImagesField(
        label=gettext_lazy("Add avatars"),
        required=False,
        widget=MultipleImageInput(attrs={"accept": IMAGE_TYPES}),
        help_text=gettext_lazy(
            "Pictures of the team shown beside its name, at most three: JPEG, PNG, "
            "GIF or WebP, cropped square."
        ),
    )

    class Meta:
        model = Appearance
        fields = SETTINGS
        widgets = {
            "color": forms.TextInput(attrs={"type": "color"}),
            "greeting_en": forms.Textarea(attrs={"rows": 3}),
            "greeting_tr": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.avatar_contents: list[bytes] = []

    def clean_color(self) -> str:
        color = str(self.cleaned_data.get("color") or "").strip().lower()
        if len(color) == 4 and color.startswith("#"):  # "#abc" is "#aabbcc"
            color = "#" + "".join(c * 2 for c in color[1:])
        return color

    def clean_new_avatars(self) -> list[UploadedFile]:
        """Each new image checked by content and made an avatar; none is read when
        there would be too many."""
        files: list[UploadedFile] = self.cleaned_data.get("new_avatars") or []
        removed = self.cleaned_data.get("remove_avatars") or []
        kept = TeamAvatar.objects.exclude(pk__in=[a.pk for a in removed]).count()
        if kept + len(files) > MAX_TEAM_AVATARS:
            raise forms.ValidationError(too_many_avatars_message(), code="too_many")
        limit = settings.SOHBET_MAX_UPLOAD_BYTES
        for file in files:
            if file.size is not None and file.size > limit:
                raise forms.ValidationError(
                    _("“%(name)s” is too large (the limit is %(mb)s MB).")
                    % {"name": file.name, "mb": limit // (1024 * 1024)}
                )
            try:
                self.avatar_contents.append(
                    clean_avatar(file.read(limit + 1), name=file.name or "")
                )
            except UploadRefused as refused:
                raise forms.ValidationError(refused.detail, code=refused.code) from None
        return files


@admin.register(Appearance)
class AppearanceAdmin(SingletonAdmin):
    singleton_id = APPEARANCE_ID

    form = AppearanceForm
    change_form_template = "admin/chat/appearance/change_form.html"
    readonly_fields = ("reply_time",)
    fieldsets = (
        (gettext_lazy("Colour and place"), {"fields": ("color", "position")}),
        (
            gettext_lazy("Launcher"),
            {
                "fields": ("launcher_label_en", "launcher_label_tr"),
                "description": gettext_lazy(
                    "The button that opens the chat on your site. Without a label it "
                    "shows an icon only."
                ),
            },
        ),
        (
            gettext_lazy("Welcome"),
            {
                "fields": (
                    "team_name_en",
                    "team_name_tr",
                    "greeting_en",
                    "greeting_tr",
                    "reply_time",
                ),
                "description": gettext_lazy(
                    "Empty texts show the default ones, translated. Visitors see the "
                    "texts of their language."
                ),
            },
        ),
        (gettext_lazy("Team avatars"), {"fields": ("remove_avatars", "new_avatars")}),
    )

    class Media:
        css = {"all": ["chat/appearance-admin.css"]}
        js = ["chat/appearance-admin.js"]

    def save_model(
        self, request: HttpRequest, obj: Appearance, form: Any, change: bool
    ) -> None:
        services.update_appearance(
            values={name: form.cleaned_data[name] for name in SETTINGS},
            new_avatars=form.avatar_contents,
            remove_avatar_ids=[a.pk for a in form.cleaned_data["remove_avatars"]],
        )

    @admin.display(description=gettext_lazy("reply time"))
    def reply_time(self, obj: Appearance) -> str:
        text = appearance.reply_time_text(appearance.get_reply_time_bucket())
        return text or _(
            "Not shown yet: computed from the conversations of the last 14 days once "
            "there are enough of them."
        )

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        context["preview"] = _preview_texts()
        return super().render_change_form(request, context, *args, **kwargs)


def _preview_texts() -> dict[str, Any]:
    """What the preview shows for empty fields, in each language, and the avatars
    already stored (static/chat/appearance-admin.js)."""
    texts: dict[str, Any] = {}
    for lang in appearance.LANGUAGES:
        with translation.override(lang):
            texts[lang] = {
                "greeting": _(
                    "Ask us anything. The %(site)s team will answer right here."
                ),
                "replyTime": appearance.reply_time_text(
                    appearance.get_reply_time_bucket()
                )
                or _("We will reply soon"),
                "welcome": _("Hi there!"),
                "sample": _("Hello! I have a question about my order."),
            }
    return {
        "texts": texts,
        "siteName": settings.SOHBET_SITE_NAME,
        "avatars": {
            str(pk): reverse("team-avatar", args=[pk])
            for pk in TeamAvatar.objects.values_list("pk", flat=True)
        },
        "max": MAX_TEAM_AVATARS,
        "tooMany": too_many_avatars_message(),
    }
