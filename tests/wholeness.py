"""Test helper: every address, MAC and endpoint (address and port) in a summary JSON, and whether a
printed report shows one whole (not cut, not run into a neighbouring digit or group)."""

from __future__ import annotations

import re
from typing import Any

from analyzer.report.text import endpoint

_IPV4 = r"(?:\d{1,3}\.){3}\d{1,3}"
_IPV6 = r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:%\w+)?"
_MAC = r"(?:[0-9a-f]{2}:){5}[0-9a-f]{2}"
_TOKEN = re.compile(rf"(?<![\w.:])(?:{_MAC}|{_IPV4}|{_IPV6})(?![\w.:])")
"""An IPv4 or IPv6 address or a MAC, standing alone inside a longer string."""
NOT_IDENTIFIERS = frozenset({"client_id"})
"""Keys whose values look like addresses but are opaque identifiers no table prints (DHCP client id:
a hardware type byte then the MAC, shown as the MAC)."""
ICMP = frozenset({"icmp", "icmpv6"})
"""Flow protocols whose id.*_p are an ICMP type and code, not ports."""


def identifiers(data: Any) -> set[str]:
    """Every address and MAC in the JSON (inside longer strings too), and every `id.*_h`/`id.*_p`
    pair as the report prints it (endpoint(): `host:port`, `[v6]:port`; the host alone for ICMP)."""
    found: set[str] = set()
    _walk(data, found)
    return found


def _walk(value: Any, found: set[str]) -> None:
    if isinstance(value, dict):
        for side in ("orig", "resp"):
            host, port = value.get(f"id.{side}_h"), value.get(f"id.{side}_p")
            if isinstance(host, str) and isinstance(port, int):
                found.add(endpoint(host, None if value.get("proto") in ICMP else port))
        for key, item in value.items():
            if key not in NOT_IDENTIFIERS:
                _walk(item, found)
    elif isinstance(value, list):
        for item in value:
            _walk(item, found)
    elif isinstance(value, str):
        for m in _TOKEN.finditer(value):
            token = m.group()
            if "." in token or (token.count(":") >= 2 and re.search(r"[0-9a-f]", token)):
                found.add(token)


def appears_whole(value: str, text: str) -> bool:
    """`value` occurs in `text` with nothing cut: no ellipsis after it, and not as the start or end
    of a longer address (192.0.2.1 inside 192.0.2.10; an IPv6 address followed by :port unbracketed)."""
    v = re.escape(value)
    if value.startswith("["):  # [v6]:port
        pattern = rf"{v}(?![\w.…])"
    elif ":" in value and "." not in value and value.count(":") != 5:  # IPv6, bare or bracketed
        return bool(re.search(rf"(?<![\w.:]){v}(?![\w.:…])", text) or re.search(rf"\[{v}\]", text))
    else:  # IPv4 (maybe with :port), MAC
        pattern = rf"(?<![\w.:]){v}(?![\w.…]|:[^\d])"
    return re.search(pattern, text) is not None
