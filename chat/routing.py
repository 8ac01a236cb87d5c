from channels.auth import AuthMiddleware
from django.urls import path

from chat.consumers import OperatorConsumer, VisitorConsumer

# Both run inside realtime.middleware.WebSocketMiddleware (chatsite/asgi.py).
# Only operator sockets need the user: a visitor socket, the many, does without the
# auth wrapper and its copy of the scope.
websocket_urlpatterns = [
    path("ws/chat/", VisitorConsumer.as_asgi()),
    path("ws/operator/", AuthMiddleware(OperatorConsumer.as_asgi())),
]
