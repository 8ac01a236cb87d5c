"""Django's makemessages, also extracting the JS wrappers Sohbet.t/tf/nt."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [
        *makemessages.Command.xgettext_options,
        "--keyword=t",
        "--keyword=tf",
        "--keyword=nt:1,2",
    ]
