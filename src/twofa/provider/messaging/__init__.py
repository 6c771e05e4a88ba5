"""SMS and voice delivery behind one gateway interface, chosen by ``TWOFA_SMS_GATEWAY``."""

from twofa.provider.messaging.gateways import Gateway, GatewayError, Message, make_gateway
from twofa.provider.messaging.service import MessagingService

__all__ = ["Gateway", "GatewayError", "Message", "MessagingService", "make_gateway"]
