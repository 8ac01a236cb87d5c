"""The chat's sockets: ``/ws/chat/`` (a visitor) and ``/ws/operator/`` (an operator),
adapters between the protocol's frames and the services (docs/protocol.md)."""

from chat.consumers.operator import OperatorConsumer
from chat.consumers.visitor import VisitorConsumer

__all__ = ["OperatorConsumer", "VisitorConsumer"]
