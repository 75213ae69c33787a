"""Websites allowed to embed a business's booking page, and the CSP that enforces it (pure).

An origin is `scheme://host[:port]` exactly as browsers compare them for `frame-ancestors`: no
path, no query, no wildcard, default ports dropped, host in lower case.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["InvalidOrigin", "MAX_ORIGINS", "frame_ancestors", "normalise_origin", "parse_origins"]

MAX_ORIGINS = 20
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class InvalidOrigin(ValueError):
    """The message names the offending entry and is safe to show an owner."""


def _valid_host(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
        return True
    except ValueError:
        pass
    if len(host) > 253 or host.endswith("."):
        return False
    labels = host.split(".")
    if labels[-1].isdigit():  # 10.0.0 or 999.1.1.1: a mistyped IP address, not a name
        return False
    return all(_LABEL.match(label) for label in labels)


def normalise_origin(value: str) -> str:
    """`HTTPS://Example.com:443/` → `https://example.com`; anything else raises InvalidOrigin."""
    text = value.strip()
    if not text:
        raise InvalidOrigin("An empty line is not a website address.")
    if "*" in text:
        raise InvalidOrigin(f"“{text}”: wildcards are not accepted; list each website.")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InvalidOrigin(f"“{text}” is not a valid address (check the port).")
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.netloc:
        raise InvalidOrigin(
            f"“{text}”: write the full address with http:// or https://, e.g. "
            "https://www.example.com."
        )
    if parts.username is not None or parts.password is not None:
        raise InvalidOrigin(f"“{text}”: a website address cannot contain a user name.")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidOrigin(
            f"“{text}”: give only the website (scheme, host, port), without a page path."
        )
    host = (parts.hostname or "").lower()
    if not _valid_host(host):
        raise InvalidOrigin(f"“{text}”: “{host}” is not a valid host name.")
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"


def parse_origins(lines: Iterable[str]) -> list[str]:
    """Normalised, de-duplicated origins in input order; blank lines are skipped."""
    found: list[str] = []
    for line in lines:
        if not line.strip():
            continue
        origin = normalise_origin(line)
        if origin not in found:
            found.append(origin)
    if len(found) > MAX_ORIGINS:
        raise InvalidOrigin(f"List at most {MAX_ORIGINS} websites.")
    return found


def frame_ancestors(allowed: Iterable[str]) -> str:
    """The CSP directive: the business's own host ('self') plus the allowed websites."""
    sources = ["'self'", *(normalise_origin(origin) for origin in allowed)]
    return "frame-ancestors " + " ".join(dict.fromkeys(sources))
