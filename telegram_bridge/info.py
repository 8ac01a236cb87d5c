"""``/info``: who the visitor of a conversation is, as operators read it in
Telegram (the inbox's side panel says the same: static/chat/inbox/visitor.js)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from chat import presence, selectors
from chat.context import load_attributes, local_time
from chat.models import Thread, Visitor
from chat.useragent import describe

# Telegram's limit for one message's text; an attribute's value is cut to this.
MAX_TEXT = 4096
MAX_SHOWN_VALUE = 100


def info_text(thread: Thread) -> str:
    """Everything operators may know of the thread's visitor, one fact a line."""
    visitor = thread.visitor
    online = presence.is_online(presence.visitor_key(thread.pk))
    lines = [
        *_identity(visitor),
        _("Conversation: #%(id)s (%(status)s)")
        % {"id": thread.pk, "status": thread.get_status_display()},
        _("Online now: %(yes_no)s") % {"yes_no": _("yes") if online else _("no")},
    ]
    if visitor.last_page:
        page = visitor.last_page
        if visitor.page_title:
            page = f"{visitor.page_title} — {page}"
        lines.append(_("Page: %(page)s") % {"page": page})
    if visitor.referrer:
        lines.append(_("Came from: %(url)s") % {"url": visitor.referrer})
    browser, system = describe(visitor.user_agent)
    if browser or system:
        lines.append(
            _("Browser: %(browser)s")
            % {"browser": " · ".join(filter(None, (browser, system)))}
        )
    lines.append(
        _("Language: %(locale)s")
        % {"locale": visitor.language or visitor.locale or "?"}
    )
    now = local_time(visitor.time_zone, timezone.now())
    if now is not None:
        lines.append(
            _("Local time: %(time)s (%(zone)s)")
            % {"time": now.strftime("%H:%M"), "zone": visitor.time_zone}
        )
    if visitor.country:
        lines.append(
            _("Country: %(flag)s %(code)s")
            % {"flag": _flag(visitor.country), "code": visitor.country}
        )
    lines.append(_("Visits: %(count)s") % {"count": visitor.visits})
    lines.append(
        _("First seen: %(when)s")
        % {"when": visitor.first_seen_at.strftime("%Y-%m-%d %H:%M UTC")}
    )
    attributes = load_attributes(visitor.attributes)
    if attributes:
        lines.append(_("Attributes:"))
        lines.extend(
            f"  {key}: {_shown(value)}" for key, value in sorted(attributes.items())
        )
    earlier = [
        t for t in selectors.list_visitor_threads(visitor_id=visitor.pk) if t != thread
    ]
    if earlier:
        lines.append(_("Earlier conversations:"))
        lines.extend(_thread_line(t) for t in earlier)
    text = "\n".join(lines)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _identity(visitor: Visitor) -> list[str]:
    """Name, user id and email, each marked verified or not (the host site's
    ``identify`` with a valid hash verifies them)."""
    mark = _("verified") if visitor.identity_verified else _("not verified")
    lines = [_("Visitor: %(name)s") % {"name": visitor.display_name}]
    if visitor.name:
        lines[0] += f" ({mark})"
    if visitor.external_id:
        lines.append(
            _("User ID: %(id)s (%(mark)s)") % {"id": visitor.external_id, "mark": mark}
        )
    if visitor.email:
        lines.append(
            _("Email: %(email)s (%(mark)s)") % {"email": visitor.email, "mark": mark}
        )
    if visitor.phone and visitor.phone_verified_at:
        lines.append(_("Phone: %(phone)s (phone verified)") % {"phone": visitor.phone})
    return lines


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    text = str(value)
    return text if len(text) <= MAX_SHOWN_VALUE else text[: MAX_SHOWN_VALUE - 1] + "…"


def _flag(country: str) -> str:
    """The flag emoji of a two-letter country code (regional indicator letters)."""
    return "".join(chr(0x1F1E6 + ord(letter) - ord("A")) for letter in country)


def _thread_line(thread: Thread) -> str:
    line = f"  #{thread.pk} · {thread.get_status_display()} · " + (
        thread.created_at.strftime("%Y-%m-%d")
    )
    if settings.SOHBET_PUBLIC_URL:
        path = reverse("admin:chat_thread_change", args=[thread.pk])
        line += f" · {settings.SOHBET_PUBLIC_URL}{path}"
    return line
