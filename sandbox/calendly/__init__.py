"""A deterministic local stand-in for the Calendly API v2 (the "sandbox")."""

from .account import CalendlyAccount
from .server import CalendlySandbox
from .webhooks import WebhookHub

__all__ = ["CalendlyAccount", "CalendlySandbox", "WebhookHub"]
