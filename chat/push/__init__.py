"""Web Push (docs/notifications.md): subscriptions, the "push" outbox channel and
its worker, the service worker and the offline page."""
