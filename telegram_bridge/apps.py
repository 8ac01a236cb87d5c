from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelegramBridgeConfig(AppConfig):
    name = "telegram_bridge"
    verbose_name = _("Telegram bridge")
