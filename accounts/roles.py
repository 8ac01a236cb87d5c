"""The operators' role: a group whose permissions let the admin show an operator what
they may use (conversations, messages, visitors: to view; conversations: to close and
reopen). Staff status alone opens the inbox; the group fills the admin's index.

The same group and permissions are created by migration ``0005_operators_group`` (it
keeps its own copy, as migrations do) and kept up to date by
``accounts.services.ensure_operator_group``.
"""

from __future__ import annotations

OPERATORS_GROUP = "Operators"

# (app label, codename)
OPERATOR_PERMISSIONS: tuple[tuple[str, str], ...] = (
    ("chat", "view_thread"),
    ("chat", "change_thread"),  # close and reopen, from the list of conversations
    ("chat", "view_message"),
    ("chat", "view_visitor"),
)
