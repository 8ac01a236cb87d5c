"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from chat.routing import websocket_urlpatterns  # noqa: E402
from chatsite.logging import ConnectionIdMiddleware  # noqa: E402
from chatsite.middleware import (  # noqa: E402
    WebSocketOriginValidator,
    WebSocketSessionMiddleware,
)

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": ConnectionIdMiddleware(
            WebSocketOriginValidator(
                WebSocketSessionMiddleware(URLRouter(websocket_urlpatterns))
            )
        ),
    }
)
