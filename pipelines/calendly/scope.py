"""Who the token is: its user, organization and role, which decide the scope of every listing."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from dlt.sources.helpers.rest_client import RESTClient
from requests import HTTPError

from .settings import ADMIN_ROLES, PAGE_SIZE


@dataclass(frozen=True)
class Scope:
    user_uri: str
    organization_uri: str
    role: str | None
    memberships: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES

    def listing_params(self) -> dict[str, str]:
        """Organization-wide listings need an admin or owner; anyone else sees their own."""
        if self.is_admin:
            return {"organization": self.organization_uri}
        return {"user": self.user_uri}


def resolve_scope(client: RESTClient, user: Optional[dict] = None) -> Scope:
    """`/users/me` gives the organization; the organization's memberships give the role (and are
    the `organization_memberships` table, so they are fetched once). `user`: the token's `/users/me`
    resource (`uri`, `current_organization`) when the caller has read it already."""
    if user is None:
        me = client.get("/users/me")
        me.raise_for_status()
        user = me.json()["resource"]
    org = user["current_organization"]
    try:
        memberships = [m for page in client.paginate(
            "/organization_memberships", params={"organization": org, "count": PAGE_SIZE}) for m in page]
    except HTTPError as err:
        if err.response is None or err.response.status_code != 403:
            raise
        memberships = [m for page in client.paginate(
            "/organization_memberships", params={"user": user["uri"], "count": PAGE_SIZE}) for m in page]
    role = next((m["role"] for m in memberships if m["user"]["uri"] == user["uri"]), None)
    return Scope(user_uri=user["uri"], organization_uri=org, role=role, memberships=memberships)


class LazyScope:
    """The scope, resolved by the first resource that needs it. Building the source then makes no
    request, so Dagster can list its resources (the asset specs) when it loads definitions."""

    def __init__(self, client: RESTClient, on_resolved: Callable[[Scope], None] = lambda scope: None,
                 user: Optional[dict] = None) -> None:
        self._client = client
        self._on_resolved = on_resolved
        self._user = user
        self._lock = threading.Lock()
        self._scope: Optional[Scope] = None

    def __call__(self) -> Scope:
        with self._lock:
            if self._scope is None:
                self._scope = resolve_scope(self._client, self._user)
                self._on_resolved(self._scope)
            return self._scope
