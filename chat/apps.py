from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = _("Chat")

    def ready(self) -> None:
        from chat import (  # noqa: F401
            checks,  # the frame sizes the settings allow
            signals,  # session end -> close operator sockets
        )
