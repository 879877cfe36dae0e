"""The OAuth tokens of one Calendly login, kept in a private JSON file.

The file also says which client and authorization server issued them (a refresh must go back to the
same ones) and whether a refresh was in flight when it was last written: Calendly's refresh tokens
are single-use, so a crash between spending one and storing its successor must be noticed.
"""

from __future__ import annotations

import fcntl
import json
import os
import stat
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

from .atomic import write_private
from .errors import LOGIN, OAuthError

FORMAT = 1


@dataclass(frozen=True)
class TokenSet:
    access_token: str = field(repr=False)  # repr=False: a logged or printed TokenSet shows no secret
    refresh_token: str = field(repr=False)
    expires_at: float  # unix seconds, by this machine's clock
    owner: str | None = None  # user uri
    organization: str | None = None

    @classmethod
    def from_response(cls, body: dict, requested_at: float) -> "TokenSet":
        """From the token endpoint's answer. The expiry counts from when we *sent* the request, not from
        the server's ``created_at``: that is never later than the truth, whatever the clock skew."""
        try:
            return cls(access_token=str(body["access_token"]), refresh_token=str(body["refresh_token"]),
                       expires_at=requested_at + float(body["expires_in"]), owner=body.get("owner"),
                       organization=body.get("organization"))
        except (KeyError, TypeError, ValueError):
            raise OAuthError("the token endpoint answered without access_token, refresh_token and "
                             "expires_in: check CALENDLY_AUTH_URL") from None


@dataclass(frozen=True)
class RefreshInFlight:
    """Written before a refresh token is sent, cleared in the same write that stores its successor."""
    refresh_token: str = field(repr=False)
    started_at: float


@dataclass(frozen=True)
class StoredTokens:
    tokens: TokenSet
    client_id: str
    auth_url: str
    refresh_in_flight: RefreshInFlight | None = None


class TokenStore:
    """``load``/``save`` a :class:`StoredTokens` at ``path`` (mode 0600, replaced atomically), and
    ``locked()``: an exclusive lock on a file beside it, held by whoever spends a refresh token."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    def exists(self) -> bool:
        return self.path.exists()

    def load(self) -> StoredTokens:
        try:
            with open(self.path, "rb") as f:
                if stat.S_IMODE(os.fstat(f.fileno()).st_mode) & 0o077:  # copied around and widened: close it
                    os.fchmod(f.fileno(), 0o600)
                raw = json.loads(f.read())
        except FileNotFoundError:
            raise OAuthError(f"no Calendly OAuth tokens at {self.path}: {LOGIN}") from None
        except (OSError, ValueError) as exc:
            raise OAuthError(f"cannot read the OAuth tokens at {self.path} ({type(exc).__name__}): "
                             f"{LOGIN}") from None
        try:
            if raw.get("format") != FORMAT:
                raise ValueError("unknown format")
            flight = raw.get("refresh_in_flight")
            return StoredTokens(
                tokens=TokenSet(**raw["tokens"]), client_id=raw["client_id"], auth_url=raw["auth_url"],
                refresh_in_flight=RefreshInFlight(**flight) if flight else None)
        except (AttributeError, KeyError, TypeError, ValueError):
            raise OAuthError(f"{self.path} is not a calendly-elt OAuth token file: {LOGIN}") from None

    def save(self, stored: StoredTokens) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        raw = {"format": FORMAT, **asdict(stored)}
        write_private(self.path, json.dumps(raw, indent=2).encode())

    @contextmanager
    def locked(self) -> Iterator[None]:
        """An flock is held by an open file, so separate TokenStore objects (threads or processes)
        exclude one another, and a crashed holder releases it with its last descriptor."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock
