"""The Bot API methods the bridge and ``accounts.telegram`` call (getUpdates is
served apart: it waits), with Telegram's rules and its words for each refusal.

A parameter that would change what Telegram does and that the fake does not
implement (``parse_mode``, an inline keyboard...) is refused, so that a new use of it
fails a test instead of passing against a fake that ignored it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.telegram.fakebot.errors import ApiError, bad_request, migrated
from tests.telegram.fakebot.private import reply_markup
from tests.telegram.fakebot.server import Params
from tests.telegram.fakebot.state import (
    BOT_USER,
    Chat,
    Key,
    State,
    Topic,
    utf16_length,
)

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_TOPIC_NAME_LENGTH = 128
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
NOT_IMPLEMENTED = frozenset(
    {
        "parse_mode",
        "entities",
        "caption_entities",
        "inline_message_id",
        "business_connection_id",
    }
)
CHAT_ACTIONS = frozenset(
    {"typing", "upload_photo", "record_voice", "upload_voice", "upload_document"}
    | {"record_video", "upload_video", "choose_sticker", "find_location"}
    | {"record_video_note", "upload_video_note"}
)
DEFAULT_MIME_TYPES = {
    "voice": "audio/ogg",
    "audio": "audio/mpeg",
    "document": "application/octet-stream",
}
REACTION_TYPES = frozenset({"emoji", "custom_emoji", "paid"})
GET_ME: dict[str, Any] = {
    **BOT_USER,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}

Method = Callable[[State, Params], Any]


def call(state: State, method: str, params: Params) -> Any:
    """Run ``method``: its result, or ApiError."""
    unsupported = sorted(NOT_IMPLEMENTED & params.values.keys())
    if "reply_markup" in params.values and method != "sendMessage":
        unsupported.append("reply_markup")
    if unsupported:
        raise bad_request(f"{', '.join(unsupported)}: not implemented by the fake")
    return METHODS[method](state, params)


# --- What every call checks ------------------------------------------------------


def chat_of(state: State, params: Params, *, writing: bool = True) -> Chat:
    """The chat a call names, if the bot may use it."""
    chat_id = params.integer("chat_id")
    if chat_id is None:
        raise bad_request("chat_id is empty")
    chat = state.chats.get(chat_id)
    if chat is None:
        raise bad_request("chat not found")
    if chat.id in state.migrated:
        raise migrated(state.migrated[chat.id])
    if writing and chat.is_group and state.bot_status == "kicked":
        raise ApiError(403, f"Forbidden: bot was kicked from the {chat.type} chat")
    if writing and chat.is_group and state.bot_status == "left":
        raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
    return chat


def _thread_of(
    state: State, chat: Chat, params: Params, reply_key: Key | None
) -> int | None:
    """The topic (or thread) a message goes to, if the bot may write there."""
    thread_id = params.integer("message_thread_id")
    if thread_id is None and reply_key is not None:
        thread_id = state.messages[reply_key].get("message_thread_id")
    if thread_id is None:
        return None
    if not chat.is_forum:
        if state.live(chat, thread_id) is None:
            raise bad_request("message thread not found")
        return thread_id
    topic = state.live_topic(chat, thread_id)
    if topic is None:
        raise bad_request("message thread not found")
    if topic.closed and not state.bot_can("can_manage_topics"):
        raise bad_request("TOPIC_CLOSED")
    return thread_id


def _reply_of(state: State, chat: Chat, params: Params) -> Key | None:
    reply = params.structure("reply_parameters")
    if reply is None:
        return None
    if not isinstance(reply, dict) or not isinstance(reply.get("message_id"), int):
        raise bad_request("can't parse reply parameters JSON object")
    if reply.get("chat_id") not in (None, chat.id):
        raise bad_request("replies to another chat: not implemented by the fake")
    key = state.live(chat, reply["message_id"])
    if key is None and not reply.get("allow_sending_without_reply"):
        raise bad_request("message to be replied not found")
    return key


def _send(
    state: State, params: Params, content_of: Callable[[], dict[str, Any]]
) -> Any:
    chat = chat_of(state, params)
    content = content_of()
    reply_key = _reply_of(state, chat, params)
    thread_id = _thread_of(state, chat, params, reply_key)
    key = state.store_message(
        chat, sender=BOT_USER, thread_id=thread_id, reply_key=reply_key, content=content
    )
    state.sent.append(key)
    return state.render(key)


def _caption(params: Params) -> dict[str, Any]:
    caption = params.text("caption") or ""
    if utf16_length(caption) > MAX_CAPTION_LENGTH:
        raise bad_request("message caption is too long")
    return {"caption": caption} if caption.strip() else {}


def _file(state: State, params: Params, kind: str) -> dict[str, Any]:
    """The file uploaded with the call as the message carries it (the bridge
    uploads every file: it never sends a file_id or a URL)."""
    upload = params.files.get(kind)
    if upload is None:
        if params.values.get(kind) in (None, ""):
            raise bad_request(f"there is no {kind} in the request")
        raise bad_request("wrong file identifier/HTTP URL specified")
    if kind == "photo":
        return {"photo": state.photo_sizes(upload.content)}
    mime_type = upload.content_type
    if mime_type in (None, "application/octet-stream"):
        mime_type = DEFAULT_MIME_TYPES[kind]
    stored = state.store_file(
        upload.content, folder=kind, filename=upload.filename, mime_type=mime_type
    )
    fields = stored.fields()
    if kind in ("voice", "audio"):
        fields["duration"] = 1
    if upload.filename and kind in ("audio", "document"):
        fields["file_name"] = upload.filename
    return {kind: fields}


def _topic_of(state: State, params: Params) -> tuple[Chat, Topic]:
    chat = chat_of(state, params)
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    if not state.bot_can("can_manage_topics"):
        raise bad_request("not enough rights to manage topics")
    topic = state.live_topic(chat, params.required_integer("message_thread_id"))
    if topic is None:
        raise bad_request("TOPIC_ID_INVALID")
    return chat, topic


def _topic_name(params: Params) -> str:
    name = (params.text("name") or "").strip()
    if not name:
        raise bad_request("TOPIC_TITLE_EMPTY")
    if utf16_length(name) > MAX_TOPIC_NAME_LENGTH:
        raise bad_request("TOPIC_TITLE_TOO_LONG")
    return name


def _service(state: State, chat: Chat, topic: Topic, kind: str, value: Any) -> None:
    """The service message Telegram posts in a topic the bot changed."""
    state.store_message(
        chat,
        sender=BOT_USER,
        thread_id=topic.message_thread_id,
        reply_key=None,
        content={kind: value},
    )


# --- The methods ------------------------------------------------------------------


def get_me(state: State, params: Params) -> Any:
    return dict(GET_ME)


def get_chat(state: State, params: Params) -> Any:
    return chat_of(state, params, writing=False).full_info()


def send_message(state: State, params: Params) -> Any:
    def content() -> dict[str, Any]:
        text = params.text("text") or ""
        if not text.strip():
            raise bad_request("message text is empty")
        if utf16_length(text) > MAX_TEXT_LENGTH:
            raise bad_request("message is too long")
        reply_markup(state, chat_of(state, params), params)
        return {"text": text}

    return _send(state, params, content)


def send_file(kind: str) -> Method:
    """sendPhoto, sendVoice, sendAudio or sendDocument."""

    def send(state: State, params: Params) -> Any:
        def content() -> dict[str, Any]:
            return {**_file(state, params, kind), **_caption(params)}

        return _send(state, params, content)

    return send


def create_forum_topic(state: State, params: Params) -> Any:
    chat = chat_of(state, params)
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    if not state.bot_can("can_manage_topics"):
        raise bad_request("not enough rights to create a topic")
    return state.create_topic(chat, _topic_name(params), BOT_USER).to_api()


def edit_forum_topic(state: State, params: Params) -> Any:
    chat, topic = _topic_of(state, params)
    name = _topic_name(params)
    if name == topic.name:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.name = name
    _service(state, chat, topic, "forum_topic_edited", {"name": name})
    return True


def close_forum_topic(state: State, params: Params) -> Any:
    return _set_closed(state, params, closed=True)


def reopen_forum_topic(state: State, params: Params) -> Any:
    return _set_closed(state, params, closed=False)


def _set_closed(state: State, params: Params, *, closed: bool) -> Any:
    chat, topic = _topic_of(state, params)
    if topic.closed == closed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.closed = closed
    kind = "forum_topic_closed" if closed else "forum_topic_reopened"
    _service(state, chat, topic, kind, {})
    return True


def delete_forum_topic(state: State, params: Params) -> Any:
    """Not called by the bridge: tests call it as a group admin deleting a topic."""
    _chat, topic = _topic_of(state, params)
    state.delete_topic(topic)
    return True


def send_chat_action(state: State, params: Params) -> Any:
    chat = chat_of(state, params)
    action = params.text("action")
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    state.chat_actions.append((chat.id, action, _thread_of(state, chat, params, None)))
    return True


def set_message_reaction(state: State, params: Params) -> Any:
    chat = chat_of(state, params)
    key = state.live(chat, params.required_integer("message_id"))
    if key is None:
        raise bad_request("MESSAGE_ID_INVALID")
    reaction = params.structure("reaction") or []
    if not isinstance(reaction, list) or not all(
        isinstance(item, dict) and item.get("type") in REACTION_TYPES
        for item in reaction
    ):
        raise bad_request("REACTION_INVALID")
    state.reactions.append((chat.id, key[1], reaction))
    return True


def get_file(state: State, params: Params) -> Any:
    file_id = params.text("file_id")
    if not file_id:
        raise bad_request("file_id is empty")
    stored = state.files.get(file_id)
    if stored is None:
        raise bad_request("invalid file_id")
    if stored.file_size > MAX_DOWNLOAD_SIZE:
        raise bad_request("file is too big")
    return {**stored.fields(), "file_path": stored.file_path}


METHODS: dict[str, Method] = {
    "getMe": get_me,
    "getChat": get_chat,
    "sendMessage": send_message,
    "sendPhoto": send_file("photo"),
    "sendVoice": send_file("voice"),
    "sendAudio": send_file("audio"),
    "sendDocument": send_file("document"),
    "createForumTopic": create_forum_topic,
    "editForumTopic": edit_forum_topic,
    "closeForumTopic": close_forum_topic,
    "reopenForumTopic": reopen_forum_topic,
    "deleteForumTopic": delete_forum_topic,
    "sendChatAction": send_chat_action,
    "setMessageReaction": set_message_reaction,
    "getFile": get_file,
}
