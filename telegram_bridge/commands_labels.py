"""``/label name`` and ``/unlabel name`` in a conversation's topic (or as a reply):
the inbox's labels from Telegram, through the same services (every inbox sees the
change live). ``/label`` alone lists the conversation's labels."""

from __future__ import annotations

from django.utils.translation import gettext as _

from chat import desk
from chat.exceptions import ChatError
from chat.models import LabelColour, Thread
from chat.services import labels

LABEL_COMMANDS = ("label", "unlabel")


def label_command(
    command: str, argument: str, *, thread: Thread, operator_id: int | None
) -> str:
    """What the bot answers to ``/label`` or ``/unlabel`` with ``argument``."""
    names = {label.pk: label.name for label in desk.list_labels()}
    current = desk.get_thread_label_ids([thread.pk]).get(thread.pk, [])
    if not argument.strip():
        if not current:
            return _("Conversation #%(id)s has no labels. Add one: /label name") % {
                "id": thread.pk
            }
        return _("Labels of conversation #%(id)s: %(labels)s") % {
            "id": thread.pk,
            "labels": ", ".join(names[pk] for pk in current if pk in names),
        }
    try:
        name = labels.clean_label_name(argument)
        if command == "label":
            label = labels.create_label(name=name, colour=LabelColour.GREY)
            labels.set_thread_label(
                thread_id=thread.pk, label_id=label.pk, on=True, by_id=operator_id
            )
            return _("Label “%(label)s” is on conversation #%(id)s.") % {
                "label": label.name,
                "id": thread.pk,
            }
        found = desk.get_label_by_name(name)
        if found is None or found.pk not in current:
            return _("Conversation #%(id)s has no label “%(label)s”.") % {
                "id": thread.pk,
                "label": name,
            }
        labels.set_thread_label(
            thread_id=thread.pk, label_id=found.pk, on=False, by_id=operator_id
        )
        return _("Label “%(label)s” is off conversation #%(id)s.") % {
            "label": found.name,
            "id": thread.pk,
        }
    except ChatError as exc:
        return str(exc.detail)
