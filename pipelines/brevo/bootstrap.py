"""Before pushing: every mapped attribute exists with the right type, every list exists."""

from __future__ import annotations

from ..exceptions import ConfigError
from .client import BrevoClient
from .settings import FOLDER_NAME


def ensure_attributes(client: BrevoClient, wanted: dict[str, str]) -> list[str]:
    """Create the missing attributes; a mapped attribute of another type is the user's to fix
    (Brevo silently drops values of the wrong type). Returns the names created."""
    # The spec requires only `category` and `name` of a listed attribute: one listed without `type` is
    # present, of a type we cannot check (creating it again would be refused as a duplicate).
    existing = {a["name"].upper(): a.get("type") for a in client.get("/contacts/attributes").get("attributes", [])}
    created = []
    for name, kind in sorted(wanted.items()):
        if name.upper() not in existing:
            client.post(f"/contacts/attributes/normal/{name.upper()}", {"type": kind})
            created.append(name)
            continue
        have = existing[name.upper()]
        if have is not None and have != kind and name.upper() != "SMS":  # Brevo's built-in SMS attribute is its own type
            raise ConfigError(f"the Brevo attribute {name} is of type {have}, the mapping needs {kind}: "
                              "change it in Brevo or map another attribute")
    return created


def ensure_lists(client: BrevoClient, names: set[str], ids: set[int]) -> dict[str, int]:
    """List key (a name, or `#<id>` for lists mapped by id) → Brevo list id, creating lists by name."""
    lists = {lst["name"]: int(lst["id"]) for lst in client.pages("/contacts/lists", "lists")}
    known_ids = set(lists.values())
    missing_ids = ids - known_ids
    if missing_ids:
        raise ConfigError(f"event_mapping names Brevo list ids that do not exist: {sorted(missing_ids)}")
    resolved = {f"#{i}": i for i in ids}
    folder_id = None
    for name in sorted(names):
        if name not in lists:
            if folder_id is None:
                folder_id = _folder(client)
            lists[name] = int(client.create("/contacts/lists", {"name": name, "folderId": folder_id})["id"])
        resolved[name] = lists[name]
    return resolved


def _folder(client: BrevoClient) -> int:
    for folder in client.pages("/contacts/folders", "folders"):
        if folder["name"] == FOLDER_NAME:
            return int(folder["id"])
    return int(client.create("/contacts/folders", {"name": FOLDER_NAME})["id"])


def list_keys(keys: set[str]) -> tuple[set[str], set[int]]:
    """Split list keys into names to find or create and ids that must exist."""
    ids = {int(k[1:]) for k in keys if k.startswith("#")}
    return {k for k in keys if not k.startswith("#")}, ids
