from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from chat.push.keys import new_vapid_keys


class Command(BaseCommand):
    help = (
        "Print a new VAPID key pair for Web Push, as lines for the environment "
        "(SOHBET_VAPID_PUBLIC_KEY, SOHBET_VAPID_PRIVATE_KEY). Changing the pair "
        "voids every browser's subscription: generate it once per site."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        public, private = new_vapid_keys()
        self.stdout.write(f"SOHBET_VAPID_PUBLIC_KEY={public}")
        self.stdout.write(f"SOHBET_VAPID_PRIVATE_KEY={private}")
