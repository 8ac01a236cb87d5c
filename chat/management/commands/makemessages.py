"""Django's makemessages, also extracting the client library's t/tf/nt.

The pages' modules call them by these names (static/chat/lib/i18n.js).
"""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [
        *makemessages.Command.xgettext_options,
        "--keyword=t",
        "--keyword=tf",
        "--keyword=nt:1,2",
    ]
