"""Visitors, threads, messages, the outbox of external deliveries, and the chat's
appearance.

Only ``chat.services`` writes these rows (one write path per change); the admin and the
consumers read them through ``chat.selectors``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Visitor(models.Model):
    """An anonymous website visitor, bound to a browser session."""

    # The browser session that made the visitor (kept current when its key is
    # rotated): one visitor per session, whatever the race (see Meta).
    session_key = models.CharField(_("session key"), max_length=64, blank=True)
    name = models.CharField(_("name"), max_length=80, blank=True)
    locale = models.CharField(_("locale"), max_length=16, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    last_page = models.CharField(_("last page"), max_length=500, blank=True)
    first_seen_at = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now)
    # Who the host site says this is (the widget's ``identify``): ``external_id`` is
    # the site's user id, set only when its ``user_hash`` was verified (one visitor
    # per user, on any device); ``email`` and the name may come unverified.
    external_id = models.CharField(
        _("user id on the site"), max_length=200, null=True, blank=True, unique=True
    )
    # Checked by the service (an EmailField cannot take the fast path: chat.E003).
    email = models.CharField(_("email"), max_length=254, blank=True)
    # Where ``email`` came from: the visitor typed it in the chat (unverified), or
    # the host site (``identify``; verified with the user when ``identity_verified``).
    email_source = models.CharField(
        _("email given by"),
        max_length=10,
        blank=True,
        choices=[("visitor", _("the visitor")), ("site", _("the site"))],
    )
    # Set by the unsubscribe link of an email: no more email to this visitor.
    email_unsubscribed_at = models.DateTimeField(
        _("unsubscribed from email"), null=True, blank=True
    )
    identity_verified = models.BooleanField(_("identity verified"), default=False)
    # What the visitor's page tells of them (the ``visitor.context`` frame,
    # chat.context): ``last_page`` is the host page they are on now, ``referrer``
    # where their first page came from; ``country`` as the proxy sends it.
    page_title = models.CharField(_("page title"), max_length=200, blank=True)
    referrer = models.CharField(_("referrer"), max_length=500, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    language = models.CharField(_("browser language"), max_length=35, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    # The host's ``setAttributes``: a JSON object as text ("" for none; a JSONField
    # cannot take the fast path: chat.E003).
    attributes = models.TextField(_("custom attributes"), blank=True)
    # A new session, or the same one back after chat.context.VISIT_GAP away.
    visits = models.PositiveIntegerField(_("visits"), default=1)
    # A phone number the visitor proved is theirs (Telegram's own contact, shared
    # in their private chat with the bot: telegram_bridge.visitor_handlers).
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    phone_verified_at = models.DateTimeField(_("phone verified"), null=True, blank=True)

    class Meta:
        verbose_name = _("visitor")
        verbose_name_plural = _("visitors")
        constraints = [
            models.UniqueConstraint(
                fields=["session_key"],
                condition=~Q(session_key=""),
                name="visitor_unique_session_key",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or str(_("Visitor #%(id)s") % {"id": self.pk})


class Thread(models.Model):
    """One conversation between a visitor and the operators."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    visitor = models.ForeignKey(
        Visitor,
        on_delete=models.CASCADE,
        related_name="threads",
        verbose_name=_("visitor"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_threads",
        verbose_name=_("assigned to"),
    )
    last_seq = models.PositiveIntegerField(_("last seq"), default=0)
    last_message = models.ForeignKey(
        "Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last message"),
    )
    last_message_at = models.DateTimeField(_("last message at"), null=True, blank=True)
    operator_unread_count = models.PositiveIntegerField(
        _("unread by operators"), default=0
    )
    visitor_unread_count = models.PositiveIntegerField(
        _("unread by visitor"), default=0
    )
    operator_read_up_to = models.BigIntegerField(_("operators read up to"), default=0)
    operator_delivered_up_to = models.BigIntegerField(
        _("delivered to operators up to"), default=0
    )
    visitor_read_up_to = models.BigIntegerField(_("visitor read up to"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The visitor's first message since the operators' last answer (None: answered,
    # or nothing yet): chat.rules keeps it; the inbox's "Waiting longest".
    waiting_since = models.DateTimeField(_("waiting since"), null=True, blank=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        indexes = [
            models.Index(
                fields=["status", "-updated_at"], name="thread_status_updated"
            ),
            models.Index(fields=["status", "waiting_since"], name="thread_waiting"),
        ]

    def __str__(self) -> str:
        return str(_("Conversation #%(id)s") % {"id": self.pk})


def attachment_path(instance: Attachment | None, filename: str) -> str:
    """A random name: nothing of the original name reaches the file system."""
    extension = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
    now = timezone.now()
    return f"attachments/{now:%Y/%m}/{uuid.uuid4().hex}.{extension}"


class Attachment(models.Model):
    """An uploaded file, checked by content (chat.uploads); sent with one message."""

    class Kind(models.TextChoices):
        IMAGE = "image", _("Image")
        AUDIO = "audio", _("Audio")
        FILE = "file", _("File")

    thread = models.ForeignKey(
        Thread,
        on_delete=models.CASCADE,
        related_name="attachments",
        verbose_name=_("conversation"),
    )
    uploaded_by = models.CharField(
        _("uploaded by"),
        max_length=10,
        choices=[("visitor", _("Visitor")), ("operator", _("Operator"))],
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("operator"),
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    name = models.CharField(_("original name"), max_length=160)
    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    # A visitor upload's network (realtime.clientip.rate_limit_key) as a keyed
    # hash: what the per-address upload quota counts, never the address itself.
    uploader_key = models.CharField(_("uploader key"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        indexes = [
            models.Index(
                fields=["uploader_key", "created_at"], name="attachment_uploader"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Message(models.Model):
    """A plain-text message in a thread, numbered by ``seq`` without gaps."""

    class Author(models.TextChoices):
        VISITOR = "visitor", _("Visitor")
        OPERATOR = "operator", _("Operator")
        SYSTEM = "system", _("System")

    class Source(models.TextChoices):
        WEB = "web", _("Web")
        TELEGRAM = "telegram", _("Telegram")

    thread = models.ForeignKey(
        Thread,
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("conversation"),
    )
    seq = models.PositiveIntegerField(_("seq"))
    client_id = models.UUIDField(_("client id"), default=uuid.uuid4)
    author = models.CharField(_("author"), max_length=10, choices=Author.choices)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("operator"),
    )
    author_name = models.CharField(_("author name"), max_length=150, blank=True)
    body = models.TextField(_("body"), blank=True)
    attachment = models.OneToOneField(
        Attachment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="message",
        verbose_name=_("attachment"),
    )
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.WEB
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    edited_at = models.DateTimeField(_("edited"), null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["thread", "client_id"], name="message_unique_client_id"
            ),
            models.UniqueConstraint(
                fields=["thread", "seq"], name="message_unique_seq"
            ),
            models.CheckConstraint(
                condition=Q(seq__gte=1), name="message_seq_positive"
            ),
            models.CheckConstraint(
                condition=Q(author="operator") | Q(operator__isnull=True),
                name="message_operator_only_on_operator_messages",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.thread_id}.{self.seq}"


class OutboxEntry(models.Model):
    """An external delivery (for example to Telegram) queued with the change it carries.

    Written by ``chat.services`` in the same transaction as the message; consumed by
    the integration named in ``channel`` (``chat`` knows none of them).
    """

    class Kind(models.TextChoices):
        MESSAGE = "message", _("Message")
        THREAD_CLOSED = "thread_closed", _("Conversation closed")
        THREAD_REOPENED = "thread_reopened", _("Conversation reopened")
        TRANSCRIPT = "transcript", _("Transcript")
        RATING = "rating", _("Rating")
        NOTE = "note", _("Private note")  # chat.Note, to the operators' places
        MENTION = "mention", _("Mention")  # chat.Note's mentions, to each of them

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Delivered")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Not needed")

    channel = models.CharField(_("channel"), max_length=32)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    thread = models.ForeignKey(
        Thread,
        on_delete=models.CASCADE,
        related_name="outbox",
        verbose_name=_("conversation"),
    )
    message = models.ForeignKey(
        Message,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="outbox",
        verbose_name=_("message"),
    )
    # NOTE and MENTION rows: the note (null in the message path's rows).
    note = models.ForeignKey(
        "chat.Note",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="outbox",
        verbose_name=_("private note"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox entry")
        verbose_name_plural = _("outbox")
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["channel", "status", "next_attempt_at"], name="outbox_pending"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.kind}:{self.pk}"


from chat.canned_models import CannedReply as CannedReply  # noqa: E402
from chat.desk_models import AUTO_ASSIGNMENT_ID as AUTO_ASSIGNMENT_ID  # noqa: E402
from chat.desk_models import AutoAssignment as AutoAssignment  # noqa: E402
from chat.desk_models import Label as Label  # noqa: E402
from chat.desk_models import LabelColour as LabelColour  # noqa: E402
from chat.desk_models import ThreadLabel as ThreadLabel  # noqa: E402
from chat.device_models import DeviceCode as DeviceCode  # noqa: E402
from chat.device_models import DeviceCodeAttempt as DeviceCodeAttempt  # noqa: E402
from chat.note_models import Note as Note  # noqa: E402
from chat.push_models import PushPreferences as PushPreferences  # noqa: E402
from chat.push_models import PushSubscription as PushSubscription  # noqa: E402
from chat.report_models import ConversationExport as ConversationExport  # noqa: E402
from chat.report_models import ConversationReport as ConversationReport  # noqa: E402
from chat.safety_models import Block as Block  # noqa: E402
from chat.safety_models import Rating as Rating  # noqa: E402
from chat.site_models import APPEARANCE_ID as APPEARANCE_ID  # noqa: E402
from chat.site_models import BUSINESS_HOURS_ID as BUSINESS_HOURS_ID  # noqa: E402
from chat.site_models import DEFAULT_COLOR as DEFAULT_COLOR  # noqa: E402
from chat.site_models import MAX_TEAM_AVATARS as MAX_TEAM_AVATARS  # noqa: E402
from chat.site_models import Appearance as Appearance  # noqa: E402
from chat.site_models import BusinessHours as BusinessHours  # noqa: E402
from chat.site_models import OperatorStatus as OperatorStatus  # noqa: E402
from chat.site_models import TeamAvatar as TeamAvatar  # noqa: E402
from chat.site_models import WidgetSite as WidgetSite  # noqa: E402
from chat.site_models import team_avatar_path as team_avatar_path  # noqa: E402
