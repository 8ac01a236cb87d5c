from django.urls import path

from chat.consumers import OperatorConsumer, VisitorConsumer

websocket_urlpatterns = [
    path("ws/chat/", VisitorConsumer.as_asgi()),
    path("ws/operator/", OperatorConsumer.as_asgi()),
]
