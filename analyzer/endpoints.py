"""How an endpoint is written everywhere (tables, CSV, Markdown, HTML, charts, findings): `host:port`,
`[v6 address]:port` as in URLs (RFC 3986), so a port is never read as the last group of an IPv6
address."""

from __future__ import annotations

from typing import Any


def endpoint_text(host: Any, port: Any = None) -> str:
    """`host:port`, `[v6]:port`, or the host alone when there is no port ("-" for no host)."""
    text = "-" if host is None or host == "" else str(host)
    if port is None or port == "":
        return text
    return f"[{text}]:{port}" if ":" in text else f"{text}:{port}"
