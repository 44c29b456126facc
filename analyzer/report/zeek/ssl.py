"""ssl.log (one row per TLS handshake) and x509.log (one row per certificate), from the TLS tracker.

ssl.log spells versions as Zeek does (`TLSv12`), calls the handshake letters `ssl_history`, and adds
the fingerprints that Zeek packages log beside Zeek's own fields (ja3/ja3s: salesforce/ja3; ja4/ja4s:
FoxIO-LLC/ja4).
"""

from __future__ import annotations

from typing import Any

from analyzer.report.zeek.common import TS_UID_ID, by_time, records
from analyzer.report.zeek.tsv import Field

SSL_FIELDS: tuple[Field, ...] = (
    *TS_UID_ID,
    ("version", "string"),
    ("cipher", "string"),
    ("curve", "string"),
    ("server_name", "string"),
    ("resumed", "bool"),
    ("last_alert", "string"),
    ("next_protocol", "string"),
    ("established", "bool"),
    ("ssl_history", "string"),
    ("cert_chain_fps", "vector[string]"),
    ("client_cert_chain_fps", "vector[string]"),
    ("sni_matches_cert", "bool"),
    ("ja3", "string"),
    ("ja3s", "string"),
    ("ja4", "string"),
    ("ja4s", "string"),
)
"""ssl.log columns (Zeek's SSL::Info with base/protocols/ssl/files.zeek, plus the ja3 and ja4 packages)."""
VERSION_NAMES: dict[str, str] = {
    "SSL 2.0": "SSLv2",
    "SSL 3.0": "SSLv3",
    "TLS 1.0": "TLSv10",
    "TLS 1.1": "TLSv11",
    "TLS 1.2": "TLSv12",
    "TLS 1.3": "TLSv13",
    "DTLS 1.0": "DTLSv10",
    "DTLS 1.2": "DTLSv12",
    "DTLS 1.3": "DTLSv13",
}
"""Our version label -> Zeek's (SSL::version_strings)."""
X509_FIELDS: tuple[Field, ...] = (
    ("ts", "time"),
    ("fingerprint", "string"),
    ("certificate.version", "count"),
    ("certificate.serial", "string"),
    ("certificate.subject", "string"),
    ("certificate.issuer", "string"),
    ("certificate.not_valid_before", "time"),
    ("certificate.not_valid_after", "time"),
    ("certificate.key_alg", "string"),
    ("certificate.sig_alg", "string"),
    ("certificate.key_type", "string"),
    ("certificate.key_length", "count"),
    ("certificate.exponent", "string"),
    ("certificate.curve", "string"),
    ("san.dns", "vector[string]"),
    ("san.uri", "vector[string]"),
    ("san.email", "vector[string]"),
    ("san.ip", "vector[addr]"),
    ("basic_constraints.ca", "bool"),
    ("basic_constraints.path_len", "count"),
    ("host_cert", "bool"),
    ("client_cert", "bool"),
)
"""x509.log columns (Zeek's X509::Info)."""


def ssl_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for hs in records(summary, "tls", "handshakes"):
        row = dict(hs)
        version = hs.get("version")
        row["version"] = VERSION_NAMES.get(version, version) if isinstance(version, str) else None
        row["ssl_history"] = hs.get("history") or ""
        rows.append(row)
    return by_time(rows)


def x509_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for cert in records(summary, "tls", "certificates"):
        row = dict(cert)
        for key in ("san.dns", "san.uri", "san.email", "san.ip"):  # Zeek leaves an absent SAN unset
            if not row.get(key):
                row[key] = None
        rows.append(row)
    return by_time(rows)
