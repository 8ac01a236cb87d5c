"""ASGI entry point: HTTP through Django, WebSockets through Channels (and over HTTP
for clients whose WebSocket cannot get through: realtime.fallback)."""

import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
django_asgi_app = get_asgi_application()

from django.conf import settings  # noqa: E402
from django.core.cache import caches  # noqa: E402

# Django builds a cache backend object per async context on first use, and every
# socket's task starts from a copy of this (the main) context: backends built here are
# the ones all of them use, instead of one set per socket (≈ 0.7 KiB each;
# docs/performance.md). Both cache configurations (Redis, with one client per process,
# realtime.cache; local memory, behind a lock) are safe to share between tasks and
# threads.
for alias in settings.CACHES:
    caches[alias]

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from chat.routing import websocket_urlpatterns  # noqa: E402
from realtime.fallback import HttpFallback  # noqa: E402
from realtime.middleware import WebSocketMiddleware  # noqa: E402
from realtime.proxies import TrustedProxyMiddleware  # noqa: E402

websocket_application = WebSocketMiddleware(URLRouter(websocket_urlpatterns))
# The same sockets over HTTP, for clients whose WebSocket cannot get through.
fallback = HttpFallback(
    websocket_application,
    django_asgi_app,
    ws_paths=["/" + str(route.pattern) for route in websocket_urlpatterns],
)

application = ProtocolTypeRouter(
    {
        "http": TrustedProxyMiddleware(fallback),
        "websocket": websocket_application,
    }
)

# The email and push outboxes are sent by tasks of each web process
# (chat.email.worker, chat.push.worker; docs/operations.md "Email",
# docs/notifications.md): no process of their own to run. Daphne has no start-up
# event for applications: the first connection or request starts them.
_starters: list[Any] = []
if settings.SOHBET_EMAIL_WORKER:
    from chat.email.worker import start_worker  # noqa: E402

    _starters.append(start_worker)
if settings.SOHBET_PUSH_WORKER:
    from chat.push.worker import start_worker as start_push_worker  # noqa: E402

    _starters.append(start_push_worker)
if _starters:
    _router = application

    async def _serve(scope: Any, receive: Any, send: Any) -> Any:
        for start in _starters:
            start()
        return await _router(scope, receive, send)

    application = _serve
