"""Terminal tables of the QUIC section: hellos decrypted from Initial packets (SNI, ALPN, JA4),
QUIC versions, ciphers the servers chose, packets by type, and the connections."""

from __future__ import annotations

from typing import Any

from analyzer.report.text import Table, endpoint, safe, share_table

TOP_N = 15
"""Rows shown in each "top" table (SNI, ALPN, JA4, ...)."""
CONNECTIONS_SHOWN = 20
"""Connections listed."""


def _counts(title: str, header: str, counts: dict[str, int], width: int = 48) -> Table:
    return share_table(title, header, counts, width, TOP_N)


def quic_tables(summary: dict[str, Any]) -> list[Table]:
    quic = summary.get("quic") or {}
    if not (quic.get("client_hello") or quic.get("connection_count") or quic.get("packets")):
        return []
    overview = Table(
        "QUIC overview",
        ["ClientHello", "ServerHello", "connections", "with ClientHello", "Retry", "Initials opened"],
    )
    overview.rows.append(
        [
            quic.get("client_hello", 0),
            quic.get("server_hello", 0),
            quic.get("connection_count", 0),
            quic.get("connections_with_client_hello", 0),
            quic.get("retries", 0),
            quic.get("decrypted_initials", 0),
        ]
    )
    tables = [
        overview,
        _counts("QUIC versions (per connection)", "version", quic.get("versions") or {}),
        _counts("QUIC top SNI", "server name", quic.get("sni") or {}, 60),
        _counts("QUIC ALPN offered", "protocol", quic.get("alpn") or {}),
        _counts("QUIC cipher suites chosen", "cipher", quic.get("ciphers") or {}, 56),
        _counts("QUIC JA4 (client)", "ja4", quic.get("ja4") or {}),
        _counts("QUIC JA4S (server)", "ja4s", quic.get("ja4s") or {}),
        _counts("QUIC packets by type", "type", quic.get("packets") or {}),
    ]
    conns = Table(
        "QUIC connections",
        ["client", "server", "version", "SNI", "ALPN", "cipher", "history"],
    )
    for c in (quic.get("connections") or [])[:CONNECTIONS_SHOWN]:
        conns.rows.append(
            [
                endpoint(c["id.orig_h"], c["id.orig_p"]),
                endpoint(c["id.resp_h"], c["id.resp_p"]),
                safe(c.get("version") or "-"),
                safe(c.get("server_name") or "-"),
                safe(c.get("client_protocol") or "-"),
                safe(c.get("cipher") or "-"),
                safe(c.get("history") or "-"),
            ]
        )
    tables.append(conns)
    malformed = quic.get("malformed_packets") or {}
    if malformed:
        tables.append(_counts("QUIC malformed packets", "reason", malformed))
    return tables


__all__ = ["quic_tables"]
