"""Writes: the one write path for each change (docs/architecture.md).

Every service is synchronous and atomic; async code calls it through
``realtime.run_in_db``, which sends the events it commits. A socket posts with
``apost_message`` (group commit). Events leave after commit through
``realtime.send_on_commit``; external deliveries are outbox rows written in the same
transaction.
"""

from chat.rules import NewMessage, Posted, PostOutcome
from chat.services.appearance import update_appearance
from chat.services.availability import (
    send_automatic_reply,
    set_operator_away,
    update_business_hours,
)
from chat.services.context import (
    note_visitor_seen,
    send_visitor,
    touch_visitor,
    update_visitor_context,
)
from chat.services.devices import (
    IssuedCode,
    delete_old_device_codes,
    issue_device_code,
    redeem_device_code,
    sign_out_device,
)
from chat.services.email import (
    EmailJob,
    claim_email_jobs,
    complete_email,
    drop_outbox,
    request_transcript,
    resubscribe_visitor,
    set_visitor_email,
    skip_outbox,
    unsubscribe_visitor,
)
from chat.services.housekeeping import (
    PURGE_BATCH,
    delete_unsent_attachments,
    erase_visitor,
    purge_closed_threads,
    purge_stale_visitors,
    store_attachment,
)
from chat.services.messages import (
    apost_message,
    edit_message,
    post_message,
    post_messages,
)
from chat.services.notes import add_note, transfer_thread
from chat.services.outbox import (
    complete_outbox,
    fail_outbox,
    note_outbox_wait,
    retry_failed_outbox,
    retry_outbox,
)
from chat.services.safety import (
    block_network,
    block_visitor,
    lift_blocks,
    rate_thread,
    unblock_visitor,
)
from chat.services.threads import (
    assign_thread,
    close_thread,
    mark_delivered,
    mark_read,
    reopen_thread,
)
from chat.services.visitors import (
    THREAD_SESSION_KEY,
    VISITOR_SESSION_KEY,
    VisitorConversation,
    attach_session,
    begin_visitor_session,
    drawn_conversation,
    open_conversation,
    rebind_visitor_session,
    rename_visitor,
    start_visitor,
    store_conversation,
)

__all__ = [
    "add_note",
    "transfer_thread",
    "EmailJob",
    "claim_email_jobs",
    "complete_email",
    "drop_outbox",
    "request_transcript",
    "resubscribe_visitor",
    "set_visitor_email",
    "skip_outbox",
    "unsubscribe_visitor",
    "IssuedCode",
    "PURGE_BATCH",
    "THREAD_SESSION_KEY",
    "VISITOR_SESSION_KEY",
    "NewMessage",
    "PostOutcome",
    "Posted",
    "VisitorConversation",
    "attach_session",
    "apost_message",
    "assign_thread",
    "block_network",
    "block_visitor",
    "lift_blocks",
    "rate_thread",
    "unblock_visitor",
    "begin_visitor_session",
    "close_thread",
    "drawn_conversation",
    "complete_outbox",
    "delete_old_device_codes",
    "delete_unsent_attachments",
    "edit_message",
    "issue_device_code",
    "erase_visitor",
    "fail_outbox",
    "mark_delivered",
    "mark_read",
    "note_visitor_seen",
    "note_outbox_wait",
    "open_conversation",
    "post_message",
    "post_messages",
    "purge_closed_threads",
    "redeem_device_code",
    "purge_stale_visitors",
    "rebind_visitor_session",
    "rename_visitor",
    "reopen_thread",
    "retry_failed_outbox",
    "retry_outbox",
    "send_automatic_reply",
    "send_visitor",
    "set_operator_away",
    "sign_out_device",
    "start_visitor",
    "store_attachment",
    "store_conversation",
    "touch_visitor",
    "update_visitor_context",
    "update_appearance",
    "update_business_hours",
]
