"""Hybrid classification summed up: services by label and by how the label was reached, mismatches,
and in-stream TLS upgrades.

Theory of operation
-------------------
Every finished flow (`ConnRecord`) that has a service label counts under it: flows, payload bytes
(both directions, Zeek's orig_bytes + resp_bytes) and how the label was reached — "port" (only the
well-known port spoke), "payload" (a payload signature recognised it on a port that proposed
something else or nothing), "both" (port and payload agree) or "expected" (announced by another
flow, e.g. an FTP data channel).

A flow labelled by payload is a mismatch, of one of two kinds:
- `unusual_port`: a known protocol on a port that proposes nothing (FTP on 2121, TLS on 8443);
- `port_mismatch`: a standard port carrying something else than its protocol (HTTP on 443).
The port's proposal is recomputed from the same tables classification uses.

`TlsUpgrade` events (STARTTLS, STLS, AUTH TLS accepted) are listed with their flow's endpoints once
its ConnRecord arrives. Lists are bounded; counts are not affected by the bounds.

TCP and UDP flows that end without a name are counted under the key `unknown` of the services section
(flows, bytes, an empty `by`) with `ports`: the responder ports they used, most flows first, so a user
sees what is left unclassified.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar

from analyzer.dissectors.base import TlsUpgrade
from analyzer.ports import port_service
from analyzer.records import to_jsonable
from analyzer.trackers.conn import ConnRecord

MAX_MISMATCHES = 1000
"""Mismatching flows listed (all are counted in `services` under how="payload")."""
MAX_UPGRADES = 1000
"""TLS upgrades listed."""
MAX_SERVICES = 256
"""Distinct service labels counted; labels come from our own tables, so this is a safety net."""
OTHER_KEY = "(other)"
"""Service key beyond MAX_SERVICES."""
HOW_KEYS = ("port", "payload", "both", "expected")
"""How a label is reached; always present in `by`, in this order."""
UNKNOWN_KEY = "unknown"
"""Services key of the TCP/UDP flows no port or payload named."""
MAX_UNKNOWN_PORTS = 4096
"""Distinct (proto, port) pairs of unnamed flows counted; beyond it they count under port -1."""
UNKNOWN_PORTS_LISTED = 20
"""Ports of unnamed flows listed in `services.unknown.ports` (most flows first)."""


class ServicesTracker:
    """Builds the "services", "mismatches" and "upgrades" sections."""

    EVENT_TYPES: ClassVar[tuple[type, ...]] = (ConnRecord, TlsUpgrade)

    def __init__(self) -> None:
        self.flows: Counter[str] = Counter()
        self.bytes: Counter[str] = Counter()
        self.how: dict[str, Counter[str]] = {}
        self.mismatches: list[dict[str, Any]] = []
        self.upgrades: list[dict[str, Any]] = []
        self._upgrade_index: dict[str, list[int]] = {}
        self.unknown_ports: Counter[tuple[str, int]] = Counter()
        self.unknown_port_bytes: Counter[tuple[str, int]] = Counter()

    def handle(self, event: Any) -> None:
        if isinstance(event, ConnRecord):
            self._conn(event)
        else:
            self._upgrade(event)

    def expire(self, now: float) -> None:
        pass  # nothing waits: records arrive finished

    def proposed(self, rec: ConnRecord) -> str | None:
        """The service the flow's ports propose."""
        return port_service(rec.proto, rec.orig_p, rec.resp_p)

    def _conn(self, rec: ConnRecord) -> None:
        for i in self._upgrade_index.pop(rec.uid, []):
            entry = self.upgrades[i]
            entry.update(
                {
                    "id.orig_h": rec.orig_h,
                    "id.orig_p": rec.orig_p,
                    "id.resp_h": rec.resp_h,
                    "id.resp_p": rec.resp_p,
                }
            )
        if rec.service is None:
            if rec.proto in ("tcp", "udp"):
                self._unknown(rec)
            return
        service = rec.service
        if service not in self.flows and len(self.flows) >= MAX_SERVICES:
            service = OTHER_KEY
        self.flows[service] += 1
        self.bytes[service] += rec.orig_bytes + rec.resp_bytes
        self.how.setdefault(service, Counter())[rec.service_how or "port"] += 1
        if rec.service_how != "payload":
            return
        proposed = self.proposed(rec)
        if len(self.mismatches) >= MAX_MISMATCHES:
            return
        self.mismatches.append(
            {
                "ts": to_jsonable(rec.ts),
                "uid": rec.uid,
                "id.orig_h": rec.orig_h,
                "id.orig_p": rec.orig_p,
                "id.resp_h": rec.resp_h,
                "id.resp_p": rec.resp_p,
                "proto": rec.proto,
                "service": rec.service,
                "port_service": proposed,
                "kind": "unusual_port" if proposed is None else "port_mismatch",
            }
        )

    def _unknown(self, rec: ConnRecord) -> None:
        key = (rec.proto, rec.resp_p)
        if key not in self.unknown_ports and len(self.unknown_ports) >= MAX_UNKNOWN_PORTS:
            key = (rec.proto, -1)
        self.unknown_ports[key] += 1
        self.unknown_port_bytes[key] += rec.orig_bytes + rec.resp_bytes

    def _upgrade(self, ev: TlsUpgrade) -> None:
        if len(self.upgrades) >= MAX_UPGRADES:
            return
        self._upgrade_index.setdefault(ev.uid, []).append(len(self.upgrades))
        self.upgrades.append(to_jsonable(ev))

    def finish(self) -> dict[str, Any]:
        if not self.flows and not self.upgrades and not self.unknown_ports:
            return {}
        services = {}
        for name, flows in sorted(self.flows.items(), key=lambda kv: (-kv[1], kv[0])):
            how = self.how.get(name, Counter())
            by = {k: how.get(k, 0) for k in HOW_KEYS}
            by.update({k: v for k, v in how.items() if k not in by})
            services[name] = {"flows": flows, "bytes": self.bytes[name], "by": by}
        if self.unknown_ports:
            services[UNKNOWN_KEY] = self._unknown_section()
        return {
            "services": services,
            "mismatches": sorted(self.mismatches, key=lambda m: (m["ts"], m["uid"])),
            "upgrades": sorted(self.upgrades, key=lambda u: (u["ts"], u["uid"])),
        }

    def _unknown_section(self) -> dict[str, Any]:
        top = sorted(
            self.unknown_ports.items(), key=lambda kv: (-kv[1], -self.unknown_port_bytes[kv[0]], kv[0])
        )
        return {
            "flows": sum(self.unknown_ports.values()),
            "bytes": sum(self.unknown_port_bytes.values()),
            "by": {},
            "ports": [
                {"proto": proto, "port": port, "flows": n, "bytes": self.unknown_port_bytes[(proto, port)]}
                for (proto, port), n in top[:UNKNOWN_PORTS_LISTED]
            ],
        }
