# The bridge's models (thread <-> topic mapping, message links, update offset,
# heartbeat) arrive with the Telegram bridge issue. It consumes chat.OutboxEntry rows.
