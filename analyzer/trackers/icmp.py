"""The `icmp` section: counts by type/code, errors tied to the flows they refuse, echo reachability.

Theory of operation
-------------------
Counting: every `IcmpMessage` adds one to the `"type/code"` counter of its IP version (one message
per frame: the outermost ICMP header, as tshark counts), and its name goes beside it. A message
whose body broke the rules is still counted, and its fault is counted under `malformed`.

Errors: an `IcmpError` becomes an `ErrorRecord`. Destination Unreachable records go to
`unreachable`, other errors (time exceeded, packet too big, parameter problem, redirect, source
quench) to `errors`; each list keeps the first `MAX_ERROR_ROWS` and counts the rest as dropped.
A kept record is tied to the flow its quoted datagram belonged to at `finish`, from the `ConnRecord`
of that flow (same protocol and endpoints, either direction): among those records, the latest one
that had started by the time of the error and was still live then (its last packet no more than its
idle timeout plus a sweep interval before the error — when the flow table would have let it go).
This is what a look-up in the live flow table would answer at that moment, but it also works when
`--jobs` replays the events of several workers in a process without a flow table, where the refused
flow may even have been analysed by another worker than the error (workers split by host pair, and a
router's error is not between the same hosts). ConnRecords are kept for the endpoints of kept
records, plus the last `MAX_RECENT_CONNS` of all (a flow may be closed, and its record replayed,
shortly before an error about it), at most `MAX_CONNS_PER_KEY` per endpoint pair.

Echo: a request waits in `pending`, keyed by (version, src, dst, identifier, sequence), in arrival
order. A reply whose mirrored key is pending, within `ECHO_TIMEOUT`, answers it (RTT = reply time -
request time); a reply that matches nothing (late, duplicated, or its request not captured) is an
unmatched reply. A request still pending `ECHO_TIMEOUT` seconds of packet time later, or at the end,
is unanswered for its destination — the "no reply" finding. Timeouts are judged from packet times at
each request and reply (and at `expire`), so the outcome does not depend on when `expire` runs. When
`MAX_PENDING_ECHOES` requests are pending the oldest is evicted and counted as such (neither answered
nor unanswered: we cannot know).
Per-destination rows are bounded by `MAX_ECHO_DESTINATIONS`; requests to further destinations
count only in the totals.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from analyzer.decode import ICMP, ICMPV6, TCP, UDP
from analyzer.dissectors.icmp import (
    IP_PROTO_NAMES,
    PORTED_PROTOS,
    UNREACHABLE_TYPE,
    IcmpEcho,
    IcmpError,
    IcmpMessage,
    code_name,
)
from analyzer.flows import DEFAULT_IDLE_TIMEOUT, IDLE_TIMEOUT, SWEEP_INTERVAL
from analyzer.frozen import interpreted_inits
from analyzer.records import to_jsonable
from analyzer.trackers.conn import ConnRecord

MAX_ERROR_ROWS = 500
"""Error records kept per list and IP version; a port scan can draw thousands of unreachables, the
first few hundred tell the story and the rest are counted as dropped."""
MAX_PENDING_ECHOES = 16384
"""Echo requests awaiting a reply at once (a ping sweep of a /18); the oldest is evicted beyond."""
ECHO_TIMEOUT = 30.0
"""Seconds of packet time after which a request counts as unanswered: well past ping's 10 s wait,
so slow replies still pair."""
MAX_ECHO_DESTINATIONS = 1024
"""Destinations with their own reachability row; more are counted in the totals only."""
MAX_RECENT_CONNS = 1024
"""Finished flows remembered whatever their endpoints, for errors replayed just after their flow was
closed (parallel workers close idle flows at their own sweep times)."""
MAX_CONNS_PER_KEY = 8
"""Flows remembered per endpoint pair (the same ports reused in turn); the latest are kept."""

FLOW_PROTO_NAMES: dict[int, str] = {TCP: "tcp", UDP: "udp", ICMP: "icmp", ICMPV6: "icmp"}
"""Quoted IP protocol -> the `proto` of its ConnRecord (ICMPv6 flows are "icmp" there too)."""
LIVE_AFTER_LAST_PACKET: dict[str, float] = {
    "tcp": IDLE_TIMEOUT.get(TCP, DEFAULT_IDLE_TIMEOUT) + SWEEP_INTERVAL,
    "udp": IDLE_TIMEOUT.get(UDP, DEFAULT_IDLE_TIMEOUT) + SWEEP_INTERVAL,
    "icmp": IDLE_TIMEOUT.get(ICMP, DEFAULT_IDLE_TIMEOUT) + SWEEP_INTERVAL,
}
"""Seconds after its last packet a flow can still be in the flow table (idle timeout + sweep)."""

PROTO_LABELS: dict[str, str] = {"icmpv6": "ICMPv6", "ipv6": "IPv6"}
"""Quoted protocol names spelt other than upper case in descriptions."""

ERROR_VERBS: dict[tuple[int, int], str] = {
    (4, 3): "undeliverable",
    (4, 4): "throttled",
    (4, 5): "redirected",
    (4, 11): "expired",
    (4, 12): "rejected",
    (6, 1): "undeliverable",
    (6, 2): "too big",
    (6, 3): "expired",
    (6, 4): "rejected",
}
"""(IP version, error type) -> what happened to the quoted datagram, in words."""
CODE_VERBS: dict[tuple[int, int, int], str] = {
    (4, 3, 2): "refused",
    (4, 3, 3): "refused",
    (4, 3, 4): "too big",
    (4, 3, 9): "blocked",
    (4, 3, 10): "blocked",
    (4, 3, 13): "blocked",
    (6, 1, 1): "blocked",
    (6, 1, 4): "refused",
    (6, 1, 5): "blocked",
    (6, 1, 6): "blocked",
}
"""(IP version, type, code) -> verb where the code says more than the type."""


@dataclass(frozen=True, slots=True, init=False)
class ErrorRecord:
    """An ICMP error tied to the datagram (and flow) it refers to."""

    ts: float
    """When the error was seen."""
    uid: str
    """uid of the ICMP flow that carried the error."""
    ip_version: int
    """4 or 6."""
    icmp_type: int
    """ICMP type."""
    icmp_code: int
    """ICMP code."""
    name: str
    """Type and code in words."""
    reporter: str
    """Who sent the error."""
    proto: str | None
    """Protocol of the quoted datagram (udp, tcp, icmp, ...)."""
    orig_h: str | None
    """Sender of the quoted datagram."""
    orig_p: int | None
    """Its source port."""
    resp_h: str | None
    """Where the quoted datagram was going."""
    resp_p: int | None
    """Its destination port."""
    refused_uid: str | None
    """uid of the flow the quoted datagram belonged to, when it is in the flow table."""
    mtu: int | None
    """Next-hop MTU (frag needed) or Packet Too Big MTU."""
    gateway: str | None
    """Redirect gateway."""
    pointer: int | None
    """Parameter Problem pointer."""
    mpls_labels: tuple[int, ...]
    """MPLS labels from an RFC 4950 extension."""
    malformed: str | None
    """Fault of the quote (e.g. truncated), else None."""
    description: str
    """The error in plain words."""

    def __init__(
        self,
        ts: float,
        uid: str,
        ip_version: int,
        icmp_type: int,
        icmp_code: int,
        name: str,
        reporter: str,
        proto: str | None,
        orig_h: str | None,
        orig_p: int | None,
        resp_h: str | None,
        resp_p: int | None,
        refused_uid: str | None,
        mtu: int | None,
        gateway: str | None,
        pointer: int | None,
        mpls_labels: tuple[int, ...],
        malformed: str | None,
        description: str,
    ) -> None:
        self.ts = ts  # type: ignore[misc]
        self.uid = uid  # type: ignore[misc]
        self.ip_version = ip_version  # type: ignore[misc]
        self.icmp_type = icmp_type  # type: ignore[misc]
        self.icmp_code = icmp_code  # type: ignore[misc]
        self.name = name  # type: ignore[misc]
        self.reporter = reporter  # type: ignore[misc]
        self.proto = proto  # type: ignore[misc]
        self.orig_h = orig_h  # type: ignore[misc]
        self.orig_p = orig_p  # type: ignore[misc]
        self.resp_h = resp_h  # type: ignore[misc]
        self.resp_p = resp_p  # type: ignore[misc]
        self.refused_uid = refused_uid  # type: ignore[misc]
        self.mtu = mtu  # type: ignore[misc]
        self.gateway = gateway  # type: ignore[misc]
        self.pointer = pointer  # type: ignore[misc]
        self.mpls_labels = mpls_labels  # type: ignore[misc]
        self.malformed = malformed  # type: ignore[misc]
        self.description = description  # type: ignore[misc]


class _Rtt:
    """Running RTT statistics (count, sum, min, max) in seconds."""

    __slots__ = ("count", "high", "low", "total")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.low = float("inf")
        self.high = 0.0

    def add(self, rtt: float) -> None:
        self.count += 1
        self.total += rtt
        self.low = min(self.low, rtt)
        self.high = max(self.high, rtt)

    def to_json(self) -> dict[str, float | None]:
        if not self.count:
            return {"min": None, "avg": None, "max": None}
        return {"min": self.low, "avg": self.total / self.count, "max": self.high}


class _Destination:
    """Reachability of one echo destination."""

    __slots__ = ("answered", "requests", "rtt", "unanswered")

    def __init__(self) -> None:
        self.requests = 0
        self.answered = 0
        self.unanswered = 0
        self.rtt = _Rtt()


EchoKey = tuple[int, str, str, int, int]
"""(IP version, requester, destination, identifier, sequence)."""
ConnKey = tuple[str, tuple[str, int], tuple[str, int]]
"""(ConnRecord proto, lower endpoint, higher endpoint): the same in both directions."""
Conn = tuple[float, float, str]
"""(first packet time, last packet time, uid) of a finished flow."""


def conn_key(proto: str, a: tuple[str, int], b: tuple[str, int]) -> ConnKey:
    return (proto, a, b) if a <= b else (proto, b, a)


class _VersionCounts:
    """Per-IP-version counters and error lists."""

    __slots__ = (
        "by_type_code",
        "errors",
        "errors_dropped",
        "errors_keys",
        "names",
        "unreachable",
        "unreachable_dropped",
        "unreachable_keys",
    )

    def __init__(self) -> None:
        self.by_type_code: Counter[tuple[int, int]] = Counter()
        self.names: dict[tuple[int, int], str] = {}
        self.unreachable: list[ErrorRecord] = []
        self.unreachable_keys: list[ConnKey | None] = []
        """Endpoints of each record's refused flow, until `finish` ties them (parallel to the list)."""
        self.unreachable_dropped = 0
        self.errors: list[ErrorRecord] = []
        self.errors_keys: list[ConnKey | None] = []
        self.errors_dropped = 0

    def keep(self, record: ErrorRecord, key: ConnKey | None, unreachable: bool) -> bool:
        """Add a record to its list unless the list is full (then count it as dropped)."""
        records, keys = (
            (self.unreachable, self.unreachable_keys) if unreachable else (self.errors, self.errors_keys)
        )
        if len(records) >= MAX_ERROR_ROWS:
            if unreachable:
                self.unreachable_dropped += 1
            else:
                self.errors_dropped += 1
            return False
        records.append(record)
        keys.append(key)
        return True

    def resolve(self, conns: dict[ConnKey, list[Conn]]) -> None:
        """Fill in refused_uid of every kept record whose flow was found."""
        for records, keys in ((self.unreachable, self.unreachable_keys), (self.errors, self.errors_keys)):
            for i, key in enumerate(keys):
                if key is not None:
                    uid = refused_flow(conns.get(key, []), key[0], records[i].ts)
                    if uid is not None:
                        records[i] = replace(records[i], refused_uid=uid)
            keys[:] = [None] * len(keys)

    def to_json(self) -> dict[str, Any]:
        keys = sorted(self.by_type_code)
        return {
            "by_type_code": {f"{t}/{c}": self.by_type_code[(t, c)] for t, c in keys},
            "names": {f"{t}/{c}": self.names[(t, c)] for t, c in keys},
            "unreachable": [to_jsonable(r) for r in self.unreachable],
            "unreachable_dropped": self.unreachable_dropped,
            "errors": [to_jsonable(r) for r in self.errors],
            "errors_dropped": self.errors_dropped,
        }


class IcmpTracker:
    """Builds the `icmp` section from IcmpMessage, IcmpError and IcmpEcho events (and ConnRecords)."""

    EVENT_TYPES: ClassVar[tuple[type, ...]] = (IcmpMessage, IcmpError, IcmpEcho, ConnRecord)

    def __init__(self) -> None:
        self._awaiting: set[ConnKey] = set()
        self._conns: dict[ConnKey, list[Conn]] = {}
        self._recent: deque[tuple[ConnKey, Conn]] = deque(maxlen=MAX_RECENT_CONNS)
        self._versions = {4: _VersionCounts(), 6: _VersionCounts()}
        self._malformed: Counter[str] = Counter()
        self._pending: dict[EchoKey, float] = {}
        self._destinations: dict[tuple[int, str], _Destination] = {}
        self._destinations_dropped = 0
        self._rtt = _Rtt()
        self._requests = self._replies = self._answered = self._unanswered = 0
        self._unmatched_replies = self._evicted = 0

    def handle(self, event: Any) -> None:
        if isinstance(event, IcmpMessage):
            self._message(event)
        elif isinstance(event, IcmpError):
            self._error(event)
        elif isinstance(event, IcmpEcho):
            self._echo(event)
        elif isinstance(event, ConnRecord):
            self._conn(event)

    # -- counting --

    def _message(self, msg: IcmpMessage) -> None:
        counts = self._versions[msg.ip_version]
        key = (msg.icmp_type, msg.icmp_code)
        counts.by_type_code[key] += 1
        counts.names.setdefault(key, msg.name)
        if msg.malformed:
            self._malformed[msg.malformed] += 1

    # -- errors --

    def _error(self, err: IcmpError) -> None:
        record = ErrorRecord(
            ts=err.ts,
            uid=err.uid,
            ip_version=err.ip_version,
            icmp_type=err.icmp_type,
            icmp_code=err.icmp_code,
            name=err.name,
            reporter=err.reporter,
            proto=IP_PROTO_NAMES.get(err.proto, str(err.proto)) if err.proto is not None else None,
            orig_h=err.orig_h,
            orig_p=err.orig_p,
            resp_h=err.resp_h,
            resp_p=err.resp_p,
            refused_uid=None,
            mtu=err.mtu,
            gateway=err.gateway,
            pointer=err.pointer,
            mpls_labels=err.mpls_labels,
            malformed=err.malformed,
            description=describe_error(err),
        )
        key = _refused_key(err)
        unreachable = err.icmp_type == UNREACHABLE_TYPE[err.ip_version]
        kept = self._versions[err.ip_version].keep(record, key, unreachable)
        if kept and key is not None and key not in self._awaiting:
            self._awaiting.add(key)
            for recent_key, conn in self._recent:
                if recent_key == key:
                    self._remember(key, conn)

    def _conn(self, rec: ConnRecord) -> None:
        key = conn_key(rec.proto, (rec.orig_h, rec.orig_p), (rec.resp_h, rec.resp_p))
        conn = (rec.ts, rec.ts + rec.duration, rec.uid)
        self._recent.append((key, conn))
        if key in self._awaiting:
            self._remember(key, conn)

    def _remember(self, key: ConnKey, conn: Conn) -> None:
        conns = self._conns.setdefault(key, [])
        if conn not in conns:
            conns.append(conn)
            conns.sort()
            del conns[:-MAX_CONNS_PER_KEY]

    # -- echo --

    def _echo(self, echo: IcmpEcho) -> None:
        if echo.request:
            self.expire(echo.ts)
            self._requests += 1
            key = (echo.ip_version, echo.src, echo.dst, echo.ident, echo.seq)
            dest = self._destination(echo.ip_version, echo.dst)
            if dest is not None:
                dest.requests += 1
            if key in self._pending:  # the same request again: the first one went unanswered
                self._unanswer(key)
            elif len(self._pending) >= MAX_PENDING_ECHOES:
                del self._pending[next(iter(self._pending))]
                self._evicted += 1
            self._pending[key] = echo.ts
            return
        self._replies += 1
        key = (echo.ip_version, echo.dst, echo.src, echo.ident, echo.seq)
        sent = self._pending.get(key)
        if sent is not None and echo.ts - sent > ECHO_TIMEOUT:
            self._unanswer(key)  # too late: as if `expire` had already given up on it
            sent = None
        if sent is None:
            self._unmatched_replies += 1
            return
        del self._pending[key]
        rtt = max(0.0, echo.ts - sent)
        self._answered += 1
        self._rtt.add(rtt)
        dest = self._destinations.get((echo.ip_version, echo.src))
        if dest is not None:
            dest.answered += 1
            dest.rtt.add(rtt)

    def _destination(self, version: int, dst: str) -> _Destination | None:
        dest = self._destinations.get((version, dst))
        if dest is None:
            if len(self._destinations) >= MAX_ECHO_DESTINATIONS:
                self._destinations_dropped += 1
                return None
            dest = self._destinations[(version, dst)] = _Destination()
        return dest

    def _unanswer(self, key: EchoKey) -> None:
        del self._pending[key]
        self._unanswered += 1
        dest = self._destinations.get((key[0], key[2]))
        if dest is not None:
            dest.unanswered += 1

    def expire(self, now: float) -> None:
        while self._pending:
            key, sent = next(iter(self._pending.items()))
            if now - sent <= ECHO_TIMEOUT:
                break
            self._unanswer(key)

    # -- output --

    def finish(self) -> dict[str, Any]:
        for key in list(self._pending):
            self._unanswer(key)
        for counts in self._versions.values():
            counts.resolve(self._conns)
        rows: list[dict[str, Any]] = []
        for (version, dst), d in self._destinations.items():
            rows.append(
                {
                    "dst": dst,
                    "ip_version": version,
                    "requests": d.requests,
                    "answered": d.answered,
                    "unanswered": d.unanswered,
                    "rtt": d.rtt.to_json(),
                }
            )
        rows.sort(key=lambda r: (-r["unanswered"], -r["requests"], r["dst"]))
        echo = {
            "requests": self._requests,
            "replies": self._replies,
            "answered": self._answered,
            "unanswered": self._unanswered,
            "unmatched_replies": self._unmatched_replies,
            "pending_evicted": self._evicted,
            "rtt": self._rtt.to_json(),
            "destinations": rows,
            "destinations_dropped": self._destinations_dropped,
        }
        section = {
            "v4": self._versions[4].to_json(),
            "v6": self._versions[6].to_json(),
            "echo": echo,
            "malformed": dict(self._malformed.most_common()),
        }
        return {"icmp": to_jsonable(section)}


def _refused_key(err: IcmpError) -> ConnKey | None:
    """Endpoints of the flow the quoted datagram belonged to, as its ConnRecord has them."""
    name = FLOW_PROTO_NAMES.get(err.proto) if err.proto is not None else None
    if name is None or err.orig_h is None or err.resp_h is None or err.orig_p is None or err.resp_p is None:
        return None
    return conn_key(name, (err.orig_h, err.orig_p), (err.resp_h, err.resp_p))


def refused_flow(conns: list[Conn], proto: str, ts: float) -> str | None:
    """uid of the flow that was live at `ts`: the latest started by then and not yet timed out."""
    live_after = LIVE_AFTER_LAST_PACKET.get(proto, DEFAULT_IDLE_TIMEOUT + SWEEP_INTERVAL)
    found = None
    for first, last, uid in conns:  # sorted by first packet time
        if first <= ts <= last + live_after:
            found = uid
    return found


def _endpoint(host: str | None, port: int | None, proto: int | None) -> str:
    if host is None:
        return "?"
    if port is None or proto not in PORTED_PROTOS:
        return host
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def datagram_words(
    proto: int, orig_h: str | None, orig_p: int | None, resp_h: str | None, resp_p: int | None
) -> str:
    """A datagram in words, e.g. "UDP 10.0.0.5:53211 → 10.0.0.9:161" or "TCP [2001:db8::1]:80 → ..."."""
    name = IP_PROTO_NAMES.get(proto, f"protocol {proto}")
    label = PROTO_LABELS.get(name, name.upper())
    return f"{label} {_endpoint(orig_h, orig_p, proto)} → {_endpoint(resp_h, resp_p, proto)}"


def describe_error(err: IcmpError) -> str:
    """The error in plain words, e.g. "UDP 10.0.0.5:53211 → 10.0.0.9:161 refused: port unreachable
    (reported by 10.0.0.9)"."""
    verb = CODE_VERBS.get((err.ip_version, err.icmp_type, err.icmp_code)) or ERROR_VERBS.get(
        (err.ip_version, err.icmp_type), "failed"
    )
    reason = code_name(err.ip_version, err.icmp_type, err.icmp_code) or err.name.lower()
    if err.proto is None:
        what = "a datagram (quote unreadable)"
    else:
        what = datagram_words(err.proto, err.orig_h, err.orig_p, err.resp_h, err.resp_p)
        if err.quoted_icmp:
            what += f" ({err.quoted_icmp})"
    extra = ""
    if err.mtu is not None:
        extra += f", next-hop MTU {err.mtu}" if err.ip_version == 4 else f", MTU {err.mtu}"
    if err.gateway is not None:
        extra += f", use gateway {err.gateway}"
    if err.pointer is not None:
        extra += f", at byte {err.pointer}"
    if err.mpls_labels:
        extra += ", MPLS label " + "/".join(str(label) for label in err.mpls_labels)
    return f"{what} {verb}: {reason}{extra} (reported by {err.reporter})"


__all__ = [
    "ECHO_TIMEOUT",
    "MAX_ECHO_DESTINATIONS",
    "MAX_ERROR_ROWS",
    "ErrorRecord",
    "IcmpTracker",
    "describe_error",
]


interpreted_inits(ErrorRecord)
