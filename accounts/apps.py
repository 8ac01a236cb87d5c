from typing import Any

from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        post_migrate.connect(
            _ensure_operator_group, dispatch_uid="accounts.ensure_operator_group"
        )


def _ensure_operator_group(sender: AppConfig, using: str = "default", **_: Any) -> None:
    """After every ``migrate`` (and a flush, as the tests' is) the operators' group is
    there with its permissions: once the last app whose permissions it holds has had
    them created."""
    from accounts import roles, services

    labels = {app for app, _codename in roles.OPERATOR_PERMISSIONS}
    last = [config.label for config in apps.get_app_configs() if config.label in labels]
    if using == "default" and last and sender.label == last[-1]:
        services.ensure_operator_group()
