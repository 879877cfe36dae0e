"""The addresses `forget` is given: trimmed, lower-cased (as they are matched everywhere), and checked."""

from __future__ import annotations

import re
from typing import Iterable

from ..calendly.erased import normalize_email
from ..exceptions import ConfigError

# One @, something on each side, a dot in the domain, no spaces: enough to refuse a typo or a stray
# argument before anything is erased; the addresses Calendly accepts are a subset.
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def checked_emails(emails: Iterable[str]) -> list[str]:
    """The distinct normalized addresses, in the order given; ConfigError naming the first invalid one."""
    out: list[str] = []
    for given in emails:
        email = normalize_email(given)
        if not _ADDRESS.match(email):
            raise ConfigError(f"{given!r} is not an email address: nothing was erased")
        if email not in out:
            out.append(email)
    if not out:
        raise ConfigError("no email address given: nothing was erased")
    return out
