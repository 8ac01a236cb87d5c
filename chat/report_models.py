"""Admin pages that are not a table of their own: the reports and the export of
conversations. Each is a proxy of Thread (no table, no field), so that it is listed
under Chat in the admin and has a "view" permission of its own to grant."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from chat.models import Thread


class ConversationReport(Thread):
    class Meta:
        proxy = True
        verbose_name = _("report")
        verbose_name_plural = _("reports")


class ConversationExport(Thread):
    """Viewing it is the right to export conversations and a visitor's data."""

    class Meta:
        proxy = True
        verbose_name = _("conversation export")
        verbose_name_plural = _("conversation exports")
