"""What the DHCP (dhcp4.py) and DHCPv6 (dhcp6.py) trackers share: limits, tables, lease events,
findings and the bookkeeping base class."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from analyzer.records import to_jsonable

if TYPE_CHECKING:
    from analyzer.trackers.dhcp4 import DhcpLeaseRecord, _Client
    from analyzer.trackers.dhcp6 import Dhcpv6ClientRecord, _V6Client

# --- limits -------------------------------------------------------------------------------------

MAX_CLIENTS = 8192
"""Clients (hardware addresses) tracked; a /19 worth of hosts. Beyond it, messages are still counted
by type but new clients get no row (counted in overflow.clients): a chaddr flood must not grow memory."""
MAX_XIDS_PER_CLIENT = 16
"""Open transactions per client; a client retries on a few xids at once, not more."""
MAX_OFFERS_PER_XID = 8
"""Server offers remembered per transaction; more than a handful of servers on a link is an attack."""
MAX_TIMELINE_PER_CLIENT = 64
"""Timeline entries kept per client (the first ones; the rest are counted)."""
MAX_MSG_TYPES_PER_CLIENT = 64
"""Message types listed per client in `msg_types` (the first ones; the rest are counted)."""
MAX_UIDS_PER_CLIENT = 16
"""Flow uids listed per client."""
MAX_SERVERS = 256
"""DHCP servers tracked; beyond it, replies are counted in overflow.servers."""
MAX_SERVER_LEASE_TIMES = 16
"""Distinct lease times listed per server."""
MAX_FINDINGS = 500
"""Findings kept with details (the rest are counted in findings_dropped)."""
TRANSACTION_TIMEOUT = 60.0
"""Seconds of packet time a transaction stays open after its last message: RFC 2131 4.1 retransmits
with backoff up to 64 s, and Zeek watches a DHCP transaction for 30 s."""

# --- tables -------------------------------------------------------------------------------------

UNSPECIFIED = "0.0.0.0"
STATES: dict[str, str] = {
    "no_lease": "never got a lease in the capture",
    "informed": "configured elsewhere; only asked for parameters (INFORM)",
    "active": "holds a lease still valid at the end of the capture",
    "expired": "its lease ran out before the capture ended",
    "released": "gave its lease back (RELEASE)",
    "declined": "declined the address it was given (DECLINE)",
    "nak": "its last request was refused (NAK)",
}
"""Row states and what they mean."""
FINDING_KINDS: dict[str, str] = {
    "competing_servers": "more than one server answered the same transaction",
    "offer_not_taken": "a server offered an address the client did not request",
    "nak": "a server refused a request",
    "decline": "the client declined an assigned address (in use on the link)",
    "release_without_lease": "RELEASE from a client without a lease in the capture",
    "ack_without_lease_time": "ACK granting an address without a lease time (option 51)",
    "multiple_servers": "more than one DHCP server answered in the capture",
}
"""Finding kinds and what they mean."""
REQUEST_COUNTERS: dict[str, str] = {"renew": "renewals", "rebind": "rebinds", "init-reboot": "reboots"}
"""REQUEST kind -> client counter it increments (once per transaction)."""
LEASE_MARKS: dict[str, tuple[str, float]] = {"renew": ("T1", 0.5), "rebind": ("T2", 0.875)}
"""REQUEST kind -> the lease mark it is due at and RFC 2131's default fraction of the lease."""
ENDING_STATES: dict[str, str] = {"RELEASE": "released", "DECLINE": "declined", "NAK": "nak"}
"""Message that ends an active lease -> state it leaves."""


# --- records ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LeaseEvent:
    """One step of a client's timeline."""

    ts: float
    """When it happened (for `expired`, the computed expiry time)."""
    msg_type: str
    """DHCP message type, or "-" for a computed step."""
    xid: str
    """Transaction id in hex ("" for a computed step)."""
    step: str
    """discover, offer, select, init-reboot, renew, rebind, request, grant, extend, inform, inform-ack,
    nak, decline, release, expired, bootp or other."""
    server_addr: str | None
    """Server involved (server id option, else the reply's source)."""
    addr: str | None
    """Address involved (offered, requested, assigned, released)."""
    note: str | None
    """Detail: lease time, how far into the lease a renewal came, a server message, ..."""


@dataclass(frozen=True, slots=True)
class Finding:
    """Something about DHCP on this network that an analyst should look at."""

    ts: float
    """When it was noticed."""
    kind: str
    """One of FINDING_KINDS."""
    mac: str | None
    """Client concerned (hardware address; the client DUID for DHCPv6)."""
    server_addr: str | None
    """Server concerned."""
    addr: str | None
    """Address concerned."""
    detail: str
    """Human-readable explanation."""


def _addr(addr: str) -> str | None:
    """An address field, None when unspecified (0.0.0.0)."""
    return None if addr == UNSPECIFIED else addr


def _xid(xid: int) -> str:
    return f"0x{xid:08x}"


class _Bookkeeping:
    """What the DHCP and DHCPv6 trackers share: message counters, findings, the capture's end."""

    def __init__(self) -> None:
        self.messages = 0
        self.by_type: Counter[str] = Counter()
        self.malformed: Counter[str] = Counter()
        self.overflow: Counter[str] = Counter()
        self.findings: list[Finding] = []
        self.findings_dropped = 0
        self.end_ts: float | None = None
        """Latest packet time known (capture end at finish)."""

    def _count(self, ts: float, msg_types: Iterable[str], problems: Iterable[str]) -> None:
        """One message seen: packet time, its message type(s) and its problems."""
        self._seen(ts)
        self.messages += 1
        self.by_type.update(msg_types)
        self.malformed.update(problems)

    def _seen(self, ts: float) -> None:
        if self.end_ts is None or ts > self.end_ts:
            self.end_ts = ts

    def _note(self, client: _Client | _V6Client, ts: float, msg_type: str, uid: str) -> None:
        """A client's message: its last time, its type in `msg_types` and its flow in `uids`."""
        client.last_ts = max(client.last_ts, ts)
        if len(client.msg_types) < MAX_MSG_TYPES_PER_CLIENT:
            client.msg_types.append(msg_type)
        else:
            self.overflow["msg_types"] += 1
        if uid and uid not in client.uids and len(client.uids) < MAX_UIDS_PER_CLIENT:
            client.uids.append(uid)

    def _timeline(self, client: _Client | _V6Client, entry: LeaseEvent) -> None:
        if len(client.timeline) < MAX_TIMELINE_PER_CLIENT:
            client.timeline.append(entry)
        else:
            client.timeline_dropped += 1
            self.overflow["timeline"] += 1

    def _finding(
        self, ts: float, kind: str, client: str | None, server: str | None, addr: str | None, detail: str
    ) -> None:
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(Finding(ts, kind, client, server, addr, detail))
        else:
            self.findings_dropped += 1

    def _section(
        self, rows: Sequence[DhcpLeaseRecord | Dhcpv6ClientRecord], servers: list[dict[str, Any]], end: float
    ) -> dict[str, Any]:
        """The JSON section both trackers return, one row per client."""
        return {
            "messages": self.messages,
            "by_message_type": dict(sorted(self.by_type.items(), key=lambda kv: (-kv[1], kv[0]))),
            "client_count": len(rows),
            "by_state": dict(Counter(r.state for r in rows).most_common()),
            "leases": [to_jsonable(r) for r in rows],
            "servers": servers,
            "findings": [to_jsonable(f) for f in self.findings],
            "findings_dropped": self.findings_dropped,
            "malformed": dict(self.malformed.most_common()),
            "overflow": dict(sorted(self.overflow.items())),
            "capture_end": end,
        }
