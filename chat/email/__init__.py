"""Email to visitors: the links in it (``links``), what it says (``compose``), the
worker that sends the email outbox (``worker``), the pages its links open (``views``).
The writes are ``chat.services.email``; docs/operations.md ("Email")."""
