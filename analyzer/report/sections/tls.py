"""Terminal tables of the TLS section: versions, SNI, ALPN, ciphers, fingerprints, handshakes,
alerts and certificates with their findings."""

from __future__ import annotations

from typing import Any

from analyzer.report.text import Table, endpoint, safe, share_table, utc

TOP_N = 15
"""Rows shown in each "top" table (SNI, ciphers, JA3, JA4, ...)."""
HANDSHAKES_SHOWN = 20
"""Handshakes listed in the table of incomplete or alerted handshakes."""
CERTIFICATES_SHOWN = 20
"""Certificates listed."""


def _counts(title: str, header: str, counts: dict[str, int], width: int = 48) -> Table:
    return share_table(title, header, counts, width, TOP_N)


def _date(ts: float | None) -> str:
    if ts is None:
        return "-"
    return utc(ts).strftime("%Y-%m-%d")


def _findings(cert: dict[str, Any]) -> str:
    notes = []
    if cert.get("expired"):
        notes.append("EXPIRED")
    if cert.get("not_yet_valid"):
        notes.append("NOT YET VALID")
    if cert.get("self_signed"):
        notes.append("self-signed")
    if cert.get("sni_matches") is False:
        notes.append("SNI MISMATCH")
    elif cert.get("sni_matches"):
        notes.append("SNI ok")
    return ", ".join(notes) or "-"


def tls_tables(summary: dict[str, Any]) -> list[Table]:
    tls = summary.get("tls") or {}
    if not (
        tls.get("client_hello")
        or tls.get("client_hello_truncated")
        or tls.get("server_hello")
        or tls.get("handshake_count")
    ):
        return []
    overview = Table(
        "TLS overview",
        [
            "ClientHello",
            "cut short",
            "ServerHello",
            "HRR",
            "handshakes",
            "established",
            "incomplete",
            "resumed",
        ],
    )
    overview.rows.append(
        [
            tls.get("client_hello", 0),
            tls.get("client_hello_truncated", 0),
            tls.get("server_hello", 0),
            tls.get("hello_retry_requests", 0),
            tls.get("handshake_count", 0),
            tls.get("established", 0),
            tls.get("incomplete_handshakes", 0),
            tls.get("resumed", 0),
        ]
    )
    tables = [
        overview,
        _counts("TLS versions (negotiated, per ServerHello)", "version", tls.get("versions") or {}),
        _counts("Top SNI", "server name", tls.get("sni") or {}, 60),
        _counts("ALPN offered", "protocol", tls.get("alpn") or {}),
        _counts("ALPN selected", "protocol", tls.get("alpn_selected") or {}),
        _counts("Cipher suites chosen", "cipher", tls.get("ciphers") or {}, 56),
        _counts("JA3 (client)", "ja3", tls.get("ja3") or {}),
        _counts("JA4 (client)", "ja4", tls.get("ja4") or {}),
        _counts("JA3S (server)", "ja3s", tls.get("ja3s") or {}),
        _counts("JA4S (server)", "ja4s", tls.get("ja4s") or {}),
        _counts("TLS alerts", "alert", tls.get("alerts") or {}),
    ]
    troubled = Table(
        "TLS handshakes not established or alerted",
        ["client", "server", "SNI", "version", "history", "last alert"],
    )
    for h in tls.get("handshakes") or []:
        if h.get("established") and not h.get("last_alert"):
            continue
        if len(troubled.rows) >= HANDSHAKES_SHOWN:
            break
        troubled.rows.append(
            [
                endpoint(h["id.orig_h"], h["id.orig_p"]),
                endpoint(h["id.resp_h"], h["id.resp_p"]),
                safe(h.get("server_name") or "-"),
                safe(h.get("version") or "-"),
                safe(h.get("history") or "-"),
                safe(h.get("last_alert") or "-"),
            ]
        )
    tables.append(troubled)
    certs = Table(
        f"Certificates ({tls.get('certificate_count', 0)} seen)",
        ["subject", "issuer", "valid until", "SNI", "findings"],
    )
    for c in (tls.get("certificates") or [])[:CERTIFICATES_SHOWN]:
        certs.rows.append(
            [
                safe(c.get("certificate.subject")),
                safe(c.get("certificate.issuer")),
                _date(c.get("certificate.not_valid_after")),
                safe(c.get("sni") or "-"),
                _findings(c),
            ]
        )
    tables.append(certs)
    malformed = tls.get("malformed_messages") or {}
    if malformed:
        tables.append(_counts("TLS malformed messages", "reason", malformed))
    return tables


__all__ = ["tls_tables"]
