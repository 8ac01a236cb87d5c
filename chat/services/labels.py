"""Writes of labels: the catalogue (from the inbox and the admin) and the labels on
a conversation. Each change is told to every operator after commit."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from chat import desk, events
from chat.desk_models import MAX_LABEL_NAME, MAX_LABELS, MAX_LABELS_PER_THREAD
from chat.exceptions import ChatError, ErrorCode
from chat.models import Label, LabelColour, Thread, ThreadLabel
from realtime import send_on_commit


def clean_label_name(name: str) -> str:
    """The name as stored (spaces collapsed); raises ChatError(invalid, too_long)."""
    name = " ".join(name.split())
    if not name:
        raise ChatError(ErrorCode.INVALID, _("A label needs a name."))
    if len(name) > MAX_LABEL_NAME:
        raise ChatError(
            ErrorCode.TOO_LONG,
            _("A label's name can be at most %(max)s characters.")
            % {"max": MAX_LABEL_NAME},
        )
    return name


def _tell_labels() -> None:
    send_on_commit(events.labels_event(desk.list_label_payloads()))


@transaction.atomic
def create_label(*, name: str, colour: str) -> Label:
    """A new label, or the one of that name (whatever its case) when it exists.
    Tells the operators. Raises ChatError: invalid (a name, a colour of
    LabelColour), too_long, or forbidden past MAX_LABELS."""
    name = clean_label_name(name)
    if colour not in LabelColour.values:
        raise ChatError(ErrorCode.INVALID, _("Pick one of the label colours."))
    existing = Label.objects.filter(name__iexact=name).first()
    if existing is not None:
        return existing
    if Label.objects.count() >= MAX_LABELS:
        raise ChatError(
            ErrorCode.FORBIDDEN,
            _("There can be at most %(max)s labels.") % {"max": MAX_LABELS},
        )
    try:
        with transaction.atomic():
            label = Label.objects.create(name=name, colour=colour)
    except IntegrityError:  # the same name, created meanwhile
        return Label.objects.get(name__iexact=name)
    _tell_labels()
    return label


@transaction.atomic
def save_label(*, label: Label) -> Label:
    """Save a label edited in the admin (already validated); tells the operators."""
    label.name = clean_label_name(label.name)
    label.save()
    _tell_labels()
    return label


@transaction.atomic
def delete_labels(*, label_ids: list[int]) -> None:
    """Delete labels (from the conversations too); tells the operators the labels
    left and the new labels of each conversation that had one of them."""
    threads = list(
        ThreadLabel.objects.filter(label_id__in=label_ids)
        .values_list("thread_id", flat=True)
        .distinct()
    )
    Label.objects.filter(pk__in=label_ids).delete()
    _tell_labels()
    labels = desk.get_thread_label_ids(threads)
    send_on_commit(
        *(
            events.thread_labels_event(
                thread=thread_id, labels=labels.get(thread_id, [])
            )
            for thread_id in threads
        )
    )


@transaction.atomic
def set_thread_label(
    *, thread_id: int, label_id: int, on: bool, by_id: int | None
) -> list[int]:
    """Put a label on a conversation (``on``) or take it off; the conversation's
    label ids after. Tells the operators when they changed. Raises ChatError:
    not_found (the thread, the label), forbidden past MAX_LABELS_PER_THREAD."""
    thread = Thread.objects.select_for_update().filter(pk=thread_id).first()
    if thread is None:
        raise ChatError(ErrorCode.NOT_FOUND, _("This conversation does not exist."))
    if not Label.objects.filter(pk=label_id).exists():
        raise ChatError(ErrorCode.NOT_FOUND, _("This label does not exist."))
    current = desk.get_thread_label_ids([thread_id]).get(thread_id, [])
    if on == (label_id in current):
        return current
    if on:
        if len(current) >= MAX_LABELS_PER_THREAD:
            raise ChatError(
                ErrorCode.FORBIDDEN,
                _("A conversation can have at most %(max)s labels.")
                % {"max": MAX_LABELS_PER_THREAD},
            )
        ThreadLabel.objects.create(thread=thread, label_id=label_id, added_by_id=by_id)
        current = [*current, label_id]
    else:
        ThreadLabel.objects.filter(thread=thread, label_id=label_id).delete()
        current = [pk for pk in current if pk != label_id]
    send_on_commit(events.thread_labels_event(thread=thread_id, labels=current))
    return current
