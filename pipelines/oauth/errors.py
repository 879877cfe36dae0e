"""What can go wrong with OAuth, as one-line messages that say what to do (never a token in them)."""

from __future__ import annotations

from ..exceptions import ConfigError

LOGIN = "run `calendly-elt auth login`"


class OAuthError(ConfigError):
    """A ConfigError, so the CLI prints the message as it is: the user has to act, not retry."""


class InvalidGrant(OAuthError):
    """The token endpoint refused a code or refresh token (400 invalid_grant): it will never work again."""

    def __init__(self, description: str):
        super().__init__(f"Calendly refused the grant (invalid_grant: {description})")
        self.description = description
