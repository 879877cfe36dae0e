"""A local stand-in for the Calendly API v2 (the "sandbox"), deterministic for a seed and a pinned
``now``; by default relative to the current time (``CalendlyAccount.generate``)."""

from .account import CalendlyAccount
from .server import CalendlySandbox
from .webhooks import WebhookHub

__all__ = ["CalendlyAccount", "CalendlySandbox", "WebhookHub"]
