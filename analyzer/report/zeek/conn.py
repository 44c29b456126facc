"""conn.log: one row per connection, from the ConnRecords the pipeline emits as flows end."""

from __future__ import annotations

from typing import Any

from analyzer.report.zeek.common import TS_UID_ID
from analyzer.report.zeek.tsv import Field
from analyzer.trackers.conn import ConnRecord

FIELDS: tuple[Field, ...] = (
    *TS_UID_ID,
    ("proto", "enum"),
    ("service", "string"),
    ("duration", "interval"),
    ("orig_bytes", "count"),
    ("resp_bytes", "count"),
    ("conn_state", "string"),
    ("local_orig", "bool"),
    ("local_resp", "bool"),
    ("missed_bytes", "count"),
    ("history", "string"),
    ("orig_pkts", "count"),
    ("orig_ip_bytes", "count"),
    ("resp_pkts", "count"),
    ("resp_ip_bytes", "count"),
    ("tunnel_parents", "set[string]"),
    ("ip_proto", "count"),
)
"""conn.log columns (Zeek's Conn::Info; local_orig/local_resp stay unset: no Site::local_nets here)."""
SERVICE_NAMES: dict[str, str] = {"tls": "ssl", "ftp-data": "ftp-data"}
"""Our service label -> Zeek's, where they differ (Zeek calls TLS "ssl")."""
IP_PROTO: dict[str, int] = {"tcp": 6, "udp": 17, "icmp": 1}
"""Transport name -> IP protocol number (ICMP over IPv6 is 58)."""


def conn_row(rec: ConnRecord) -> dict[str, Any]:
    ip_proto = IP_PROTO.get(rec.proto)
    if rec.proto == "icmp" and ":" in rec.orig_h:
        ip_proto = 58
    service = SERVICE_NAMES.get(rec.service, rec.service) if rec.service else None
    return {
        "ts": rec.ts,
        "uid": rec.uid,
        "id.orig_h": rec.orig_h,
        "id.orig_p": rec.orig_p,
        "id.resp_h": rec.resp_h,
        "id.resp_p": rec.resp_p,
        "proto": rec.proto,
        "service": service,
        "duration": rec.duration,
        "orig_bytes": rec.orig_bytes,
        "resp_bytes": rec.resp_bytes,
        "conn_state": rec.conn_state,
        "missed_bytes": rec.missed_bytes,
        "history": rec.history or None,
        "orig_pkts": rec.orig_pkts,
        "orig_ip_bytes": rec.orig_ip_bytes,
        "resp_pkts": rec.resp_pkts,
        "resp_ip_bytes": rec.resp_ip_bytes,
        "ip_proto": ip_proto,
    }
