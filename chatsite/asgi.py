"""ASGI entry point: HTTP through Django, WebSockets through Channels (and over HTTP
for clients whose WebSocket cannot get through: realtime.fallback)."""

import os

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
