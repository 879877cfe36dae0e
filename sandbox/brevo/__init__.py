"""A local stand-in for the Brevo API v3 (the "Brevo sandbox"): contacts, attributes, folders,
lists, asynchronous imports and custom events, with Brevo's rate-limit headers and injectable faults."""

from .account import BrevoAccount
from .server import BrevoSandbox

__all__ = ["BrevoAccount", "BrevoSandbox"]
