"""DNS, mDNS and LLMNR: message counts, query/response pairing, resolvers and names.

Theory of operation
-------------------
Every DnsMessageEvent is counted in the section of its service ("dns", "mdns", "llmnr"): a query is a
message with QR=0 (its questions counted by type, as tshark's `dns.qry.type` lists every question), a
response one with QR=1 (counted by its 4-bit header rcode); opcodes are counted over all messages.

Pairing: a query opens a pending transaction keyed by (flow uid, transaction id), holding its first
question. The same id and question from the same client while still pending is a retransmission
(the transaction keeps the first send time). A response closes the pending transaction with the same
key and question (a response without a question closes the oldest one of that key); rtt is measured
from the first send. A response nobody asked for (query before the capture, or expired) is counted
as unmatched but still logged. A pending query becomes unanswered after QUERY_TIMEOUT seconds of
packet time, or at the end. The pending table is bounded: beyond MAX_PENDING_QUERIES the oldest query
is dropped and counted as overflow.

Multicast queries (mDNS, LLMNR) are answered on another flow (different addresses), so their pairing
rarely succeeds; their counts are exact nevertheless.

Responders: a host that sends responses with RA set is listed as a resolver (with how many clients it
answered), one that sends AA responses as authoritative. A referral is a NOERROR, non-authoritative
response without answers whose authority section holds NS records.
"""

from __future__ import annotations

import random
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from analyzer.dissectors.dns import (
    DnsMessage,
    DnsMessageEvent,
    DnsQuestion,
    DnsRecord,
    DnsWeird,
    opcode_name,
    qclass_name,
    qtype_name,
    rcode_name,
    rdata_text,
)
from analyzer.records import to_jsonable

SERVICES: Final = ("dns", "mdns", "llmnr")
"""Sections this tracker fills, one per service label."""
QUERY_TIMEOUT: Final = 60.0
"""Seconds of packet time after which an unanswered query is given up. Stub resolvers retry for a few
seconds and give up well within a minute (RFC 1536, glibc: 5 s x 2 attempts x servers)."""
MAX_PENDING_QUERIES = 65536
"""Queries awaiting an answer, over all flows: the 16-bit id space of one busy resolver. (This and
MAX_TRANSACTION_RECORDS are not Final, so that tests can lower them; Final limits compile to
constants.)"""
MAX_PENDING_PER_ID: Final = 16
"""Different questions pending under one (flow, id): more is a scan or garbage, not a client."""
MAX_RTT_SAMPLES: Final = 100_000
"""Round-trip times kept for the median/p95 (exact below this, a uniform reservoir sample above)."""
MAX_SERVERS: Final = 1024
"""Responding hosts tracked for the resolver/authoritative tables."""
MAX_CLIENTS_PER_SERVER: Final = 1024
"""Distinct clients remembered per responding host (the count saturates here)."""
MAX_CLIENTS: Final = 4096
"""Querying hosts tracked for the per-client query mix."""
MAX_QTYPES_PER_CLIENT: Final = 32
"""Record types kept per client; the rest are counted under "other"."""
MAX_TRACKED_NAMES: Final = 10_000
"""Distinct queried names (and, separately, NXDOMAIN names) counted; later new names go to "other"."""
MAX_TRANSACTION_RECORDS = 1000
"""Transactions (dns.log rows) kept in the "answers" list; later ones are counted, not kept."""
MAX_ANSWERS_PER_TRANSACTION: Final = 32
"""Answer records rendered into one transaction row (the rest are left out: rows stay small)."""
MAX_UNANSWERED_RECORDS: Final = 200
"""Unanswered queries kept in the "unanswered" list; all are counted."""
TOP_N: Final = 20
"""Rows shown in the top names / NXDOMAIN names / clients / resolvers lists."""
RESERVOIR_SEED: Final = 0
"""Fixed seed: the reservoir sample (and so the reported percentiles) is reproducible."""

QuestionKey = tuple[str, int, int] | None
"""(lower-cased name, qtype, qclass) of a message's first question, None without one."""


@dataclass(slots=True, init=False)
class DnsTransaction:
    """One query and its response, named as Zeek's dns.log names them (a dataclass built by a compiled
    `__init__`, its fields `Final`: see the message model in analyzer/dissectors/dns.py)."""

    ts: Final[float]
    """Time of the (first) query, or of the response when the query was not seen."""
    uid: Final[str]
    """uid of the flow."""
    orig_h: Final[str]
    """Flow originator address."""
    orig_p: Final[int]
    """Flow originator port."""
    resp_h: Final[str]
    """Flow responder address."""
    resp_p: Final[int]
    """Flow responder port."""
    proto: Final[str]
    """udp or tcp."""
    trans_id: Final[int]
    """DNS transaction id."""
    rtt: Final[float | None]
    """Seconds from the first query to the response (None when one side is missing)."""
    query: Final[str | None]
    """Queried name."""
    qclass: Final[int | None]
    """Query class."""
    qclass_name: Final[str | None]
    """Query class name."""
    qtype: Final[int | None]
    """Query type."""
    qtype_name: Final[str | None]
    """Query type name."""
    rcode: Final[int | None]
    """Header response code (None when unanswered)."""
    rcode_name: Final[str | None]
    """Response code name."""
    AA: Final[bool]
    """Authoritative answer."""
    TC: Final[bool]
    """Truncated."""
    RD: Final[bool]
    """Recursion desired (from the query when seen)."""
    RA: Final[bool]
    """Recursion available."""
    Z: Final[int]
    """The three bits between RA and RCODE (Z, AD, CD)."""
    answers: Final[tuple[str, ...]]
    """Answer-section rdata in presentation form (undecoded types as <TYPE>)."""
    TTLs: Final[tuple[float, ...]]
    """TTL of each answer."""
    rejected: Final[bool]
    """Response carried no records at all (Zeek's dns_rejected)."""

    def __init__(
        self,
        ts: float,
        uid: str,
        orig_h: str,
        orig_p: int,
        resp_h: str,
        resp_p: int,
        proto: str,
        trans_id: int,
        rtt: float | None,
        query: str | None,
        qclass: int | None,
        qclass_name: str | None,
        qtype: int | None,
        qtype_name: str | None,
        rcode: int | None,
        rcode_name: str | None,
        AA: bool,
        TC: bool,
        RD: bool,
        RA: bool,
        Z: int,
        answers: tuple[str, ...],
        TTLs: tuple[float, ...],
        rejected: bool,
    ) -> None:
        self.ts = ts
        self.uid = uid
        self.orig_h = orig_h
        self.orig_p = orig_p
        self.resp_h = resp_h
        self.resp_p = resp_p
        self.proto = proto
        self.trans_id = trans_id
        self.rtt = rtt
        self.query = query
        self.qclass = qclass
        self.qclass_name = qclass_name
        self.qtype = qtype
        self.qtype_name = qtype_name
        self.rcode = rcode
        self.rcode_name = rcode_name
        self.AA = AA
        self.TC = TC
        self.RD = RD
        self.RA = RA
        self.Z = Z
        self.answers = answers
        self.TTLs = TTLs
        self.rejected = rejected


class _Pending:
    """A query waiting for its response: what its dns.log row needs, not the message (an entry
    stays small however many records the query carried)."""

    __slots__ = (
        "client",
        "first_ts",
        "id",
        "last_ts",
        "orig_h",
        "orig_p",
        "proto",
        "qkey",
        "question",
        "rd",
        "resp_h",
        "resp_p",
        "sends",
        "tc",
        "uid",
        "z",
    )

    def __init__(self, event: DnsMessageEvent, qkey: QuestionKey) -> None:
        msg = event.message
        self.qkey = qkey
        self.client = event.orig_h if event.is_orig else event.resp_h
        self.first_ts = self.last_ts = event.ts
        self.sends = 1
        self.uid = event.uid
        self.orig_h = event.orig_h
        self.orig_p = event.orig_p
        self.resp_h = event.resp_h
        self.resp_p = event.resp_p
        self.proto = event.proto
        self.id = msg.id
        self.question: DnsQuestion | None = msg.questions[0] if msg.questions else None
        """The first question (the one dns.log shows)."""
        self.rd = msg.rd
        self.tc = msg.tc
        self.z = msg.z


class _Server:
    """What one responding host did."""

    __slots__ = ("aa", "clients", "ra", "referrals", "responses")

    def __init__(self) -> None:
        self.responses = 0
        self.ra = 0
        self.aa = 0
        self.referrals = 0
        self.clients: set[str] = set()


def _qkey(message: DnsMessage) -> QuestionKey:
    if not message.questions:
        return None
    q = message.questions[0]
    return (q.name.lower(), q.qtype, q.qclass)


def _answer_text(rr: DnsRecord) -> str:
    """Decoded rdata as text; undecoded types (RRSIG, OPT, ...) as <TYPE> to keep rows short."""
    return rdata_text(rr) if rr.data is not None else f"<{rr.rtype_name}>"


SMALL_NUMBERS: Final = 256
"""Opcodes, rcodes and record types below this are tallied in a list slot (every opcode and header
rcode, the common record types; HTTPS is 65, CAA 257 goes to the dict)."""
OTHER: Final = -1
"""Key that `_bump` counts under once a table of numbers (record types per client) is full."""


def _bump(counter: dict[str, int], key: str, limit: int, other: str = "other") -> None:
    """Count `key`, or `other` once `limit` distinct keys are held."""
    seen = counter.get(key)
    if seen is not None:
        counter[key] = seen + 1
    elif len(counter) < limit:
        counter[key] = 1
    else:
        counter[other] = counter.get(other, 0) + 1


def _bump_number(counter: dict[int, int], key: int, limit: int) -> None:
    """`_bump` for a table keyed by number: `OTHER` once `limit` distinct keys are held."""
    seen = counter.get(key)
    if seen is None and len(counter) >= limit:
        key = OTHER
        seen = counter.get(key)
    counter[key] = 1 if seen is None else seen + 1


def _named(counter: dict[int, int], name: Callable[[int], str]) -> dict[str, int]:
    """A table counted by number as {name: count}, most common first (ties: first seen first, as
    Counter.most_common orders them); `OTHER` is "other"."""
    named = Counter({("other" if k == OTHER else name(k)): v for k, v in counter.items()})
    return dict(named.most_common())


class _Tally:
    """Counts by number (opcodes, rcodes, record types): numbers below SMALL_NUMBERS in a list slot
    (cheaper per message than a dict entry), the others in a dict, and the order in which numbers
    were first counted, which the output keeps for ties (as Counter.most_common does)."""

    __slots__ = ("big", "order", "small")

    def __init__(self) -> None:
        self.small = [0] * SMALL_NUMBERS
        self.big: dict[int, int] = {}
        self.order: list[int] = []

    def add(self, key: int) -> None:
        if 0 <= key < SMALL_NUMBERS:
            seen = self.small[key]
            self.small[key] = seen + 1
        else:
            seen = self.big.get(key, 0)
            self.big[key] = seen + 1
        if not seen:
            self.order.append(key)

    def named(self, name: Callable[[int], str]) -> dict[str, int]:
        """{name: count}, most common first, ties in the order first counted."""
        small, big = self.small, self.big
        counts = Counter({name(k): (small[k] if 0 <= k < SMALL_NUMBERS else big[k]) for k in self.order})
        return dict(counts.most_common())


def _randbelow(rng: random.Random, n: int) -> int:
    """rng.randrange(n) for n > 0, drawing exactly what it draws (CPython's
    `_randbelow_with_getrandbits`: k-bit numbers until one is below n), without the interpreted
    `random.py` frames that cost ~1 us per call (3% of a DNS-heavy run past MAX_RTT_SAMPLES answers)."""
    k = n.bit_length()
    r = rng.getrandbits(k)
    while r >= n:
        r = rng.getrandbits(k)
    return r


def _percentile(sorted_values: list[float], percent: int) -> float:
    """Nearest-rank percentile of a sorted, non-empty list (integer arithmetic: ceil(p * n / 100))."""
    rank = max(1, -(-percent * len(sorted_values) // 100))
    return sorted_values[rank - 1]


def _top(counter: dict[str, int], n: int = TOP_N) -> list[dict[str, Any]]:
    return [{"name": k, "count": v} for k, v in Counter(counter).most_common(n)]


def _transaction(query: _Pending, rtt: float | None, response: DnsMessageEvent | None) -> DnsTransaction:
    """A dns.log row from the query (or the response standing in for it) and the response."""
    rmsg = response.message if response is not None else None
    q = query.question
    if q is None and rmsg is not None and rmsg.questions:
        q = rmsg.questions[0]
    answers: tuple[str, ...] = ()
    ttls: tuple[float, ...] = ()
    if rmsg is not None and rmsg.answers:
        shown = rmsg.answers[:MAX_ANSWERS_PER_TRANSACTION]
        answers = tuple([_answer_text(rr) for rr in shown])
        ttls = tuple([float(rr.ttl) for rr in shown])
    return DnsTransaction(
        ts=query.first_ts,
        uid=query.uid,
        orig_h=query.orig_h,
        orig_p=query.orig_p,
        resp_h=query.resp_h,
        resp_p=query.resp_p,
        proto=query.proto,
        trans_id=query.id,
        rtt=rtt,
        query=q.name if q is not None else None,
        qclass=q.qclass if q is not None else None,
        qclass_name=qclass_name(q.qclass) if q is not None else None,
        qtype=q.qtype if q is not None else None,
        qtype_name=q.qtype_name if q is not None else None,
        rcode=rmsg.rcode if rmsg is not None else None,
        rcode_name=rcode_name(rmsg.rcode) if rmsg is not None else None,
        AA=rmsg is not None and rmsg.aa,
        TC=rmsg.tc if rmsg is not None else query.tc,
        RD=query.rd,
        RA=rmsg is not None and rmsg.ra,
        Z=rmsg.z if rmsg is not None else query.z,
        answers=answers,
        TTLs=ttls,
        rejected=rmsg is not None and not (rmsg.ancount or rmsg.nscount or rmsg.arcount),
    )


class _ServiceStats:
    """All state of one section (dns, mdns or llmnr).

    Tables of record types, rcodes and opcodes are counted by number in plain dicts (a dict of ints
    costs less per message than a Counter of names) and named when the section is written."""

    def __init__(self) -> None:
        self.query_count = 0
        self.response_count = 0
        self.queries_by_qtype = _Tally()
        self.responses_by_qtype = _Tally()
        self.responses_by_rcode = _Tally()
        self.opcodes = _Tally()
        self.over_tcp = 0
        self.malformed: dict[str, int] = {}
        self.pending: dict[tuple[str, int], list[_Pending]] = {}
        self.pending_size = 0
        self.answered = 0
        self.unanswered = 0
        self.retransmissions = 0
        self.unmatched = 0
        self.overflow = 0
        self.records_dropped = 0
        self.rtts: list[float] = []
        self.rtt_seen = 0
        self._rng = random.Random(RESERVOIR_SEED)
        self.servers: dict[str, _Server] = {}
        self.servers_dropped = 0
        self.clients: dict[str, dict[int, int]] = {}
        self.clients_dropped = 0
        self.names: dict[str, int] = {}
        self.nxdomain_names: dict[str, int] = {}
        self.referrals = 0
        self.unanswered_records: list[DnsTransaction] = []
        self.transactions: list[DnsTransaction] = []

    # -- messages --

    def message(self, event: DnsMessageEvent) -> None:
        msg = event.message
        self.opcodes.add(msg.opcode)
        if event.proto == "tcp":
            self.over_tcp += 1
        malformed = event.malformed
        if malformed is not None:
            self.malformed[malformed] = self.malformed.get(malformed, 0) + 1
        if msg.qr:
            self._response(event, msg)
        else:
            self._query(event, msg)

    def _query(self, event: DnsMessageEvent, msg: DnsMessage) -> None:
        self.query_count += 1
        client = event.orig_h if event.is_orig else event.resp_h
        mix = self.clients.get(client)
        if mix is None:
            if len(self.clients) < MAX_CLIENTS:
                mix = self.clients[client] = {}
            else:
                self.clients_dropped += 1
        for q in msg.questions:
            self.queries_by_qtype.add(q.qtype)
            _bump(self.names, q.name, MAX_TRACKED_NAMES)
            if mix is not None:
                _bump_number(mix, q.qtype, MAX_QTYPES_PER_CLIENT)
        key = (event.uid, msg.id)
        qkey = _qkey(msg)
        entries = self.pending.get(key)
        if entries is not None:
            for entry in entries:
                if entry.qkey == qkey and entry.client == client:
                    entry.sends += 1
                    entry.last_ts = event.ts
                    self.retransmissions += 1
                    return
            if len(entries) >= MAX_PENDING_PER_ID:
                self.overflow += 1
                return
        if self.pending_size >= MAX_PENDING_QUERIES:
            self._drop_oldest()
            entries = self.pending.get(key)
        if entries is None:
            entries = self.pending[key] = []
        entries.append(_Pending(event, qkey))
        self.pending_size += 1

    def _drop_oldest(self) -> None:
        key = next(iter(self.pending))
        entries = self.pending[key]
        entries.pop(0)
        self.pending_size -= 1
        self.overflow += 1
        if not entries:
            del self.pending[key]

    def _response(self, event: DnsMessageEvent, msg: DnsMessage) -> None:
        self.response_count += 1
        rcode = msg.rcode
        self.responses_by_rcode.add(rcode)
        for q in msg.questions:
            self.responses_by_qtype.add(q.qtype)
            if rcode == 3:
                _bump(self.nxdomain_names, q.name, MAX_TRACKED_NAMES)
        referral = False
        if rcode == 0 and not msg.aa and not msg.answers:
            for rr in msg.authority:
                if rr.rtype == 2:
                    referral = True
                    break
        if referral:
            self.referrals += 1
        self._server(event, msg, referral)
        query = self._match(event, msg)
        if query is None:
            self.unmatched += 1
            self._record(None, None, event)
            return
        self.answered += 1
        rtt = event.ts - query.first_ts
        self._sample(max(rtt, 0.0))
        self._record(query, rtt, event)

    def _match(self, event: DnsMessageEvent, msg: DnsMessage) -> _Pending | None:
        key = (event.uid, msg.id)
        entries = self.pending.get(key)
        if not entries:
            return None
        qkey = _qkey(msg)
        found: _Pending | None = None
        for e in entries:
            if qkey is None or e.qkey is None or e.qkey == qkey:
                found = e
                break
        if found is None:
            return None
        entries.remove(found)
        self.pending_size -= 1
        if not entries:
            del self.pending[key]
        return found

    def _server(self, event: DnsMessageEvent, msg: DnsMessage, referral: bool) -> None:
        host = event.orig_h if event.is_orig else event.resp_h
        server = self.servers.get(host)
        if server is None:
            if len(self.servers) >= MAX_SERVERS:
                self.servers_dropped += 1
                return
            server = self.servers[host] = _Server()
        server.responses += 1
        if msg.ra:
            server.ra += 1
        if msg.aa:
            server.aa += 1
        if referral:
            server.referrals += 1
        if len(server.clients) < MAX_CLIENTS_PER_SERVER:
            server.clients.add(event.resp_h if event.is_orig else event.orig_h)

    def _sample(self, rtt: float) -> None:
        self.rtt_seen += 1
        if len(self.rtts) < MAX_RTT_SAMPLES:
            self.rtts.append(rtt)
            return
        slot = _randbelow(self._rng, self.rtt_seen)
        if slot < MAX_RTT_SAMPLES:
            self.rtts[slot] = rtt

    def _record(self, query: _Pending | None, rtt: float | None, response: DnsMessageEvent) -> None:
        """Keep the dns.log row of a transaction while there is room (built only then: past the
        limit, rows are counted, not made). No query: the response stands in for it."""
        if len(self.transactions) < MAX_TRANSACTION_RECORDS:
            self.transactions.append(
                _transaction(query if query is not None else _Pending(response, None), rtt, response)
            )
        else:
            self.records_dropped += 1

    # -- expiry --

    def expire(self, now: float) -> None:
        """Give up queries older than QUERY_TIMEOUT (roughly oldest first; never one too early)."""
        pending = self.pending
        while pending:
            key = next(iter(pending))
            entries = pending[key]
            if now - entries[0].first_ts <= QUERY_TIMEOUT:
                return
            del pending[key]
            keep = []
            for entry in entries:
                if now - entry.first_ts > QUERY_TIMEOUT:
                    self._give_up(entry)
                else:
                    keep.append(entry)
            if keep:
                pending[key] = keep  # re-inserted at the end of the order

    def _give_up(self, entry: _Pending) -> None:
        self.pending_size -= 1
        self.unanswered += 1
        if len(self.unanswered_records) < MAX_UNANSWERED_RECORDS:
            self.unanswered_records.append(_transaction(entry, None, None))

    def flush(self) -> None:
        """End of input: every pending query is unanswered."""
        for entries in self.pending.values():
            for entry in entries:
                self._give_up(entry)
        self.pending.clear()

    # -- output --

    def section(self) -> dict[str, Any]:
        rtts = sorted(self.rtts)
        servers = self.servers.items()
        resolvers = sorted(
            ((h, s) for h, s in servers if s.ra),
            key=lambda hs: (-len(hs[1].clients), -hs[1].responses, hs[0]),
        )
        authoritative = sorted(
            ((h, s) for h, s in servers if s.aa), key=lambda hs: (-hs[1].aa, -hs[1].responses, hs[0])
        )
        clients = sorted(self.clients.items(), key=lambda hc: (-sum(hc[1].values()), hc[0]))
        return {
            "query_count": self.query_count,
            "response_count": self.response_count,
            "queries_by_qtype": self.queries_by_qtype.named(qtype_name),
            "responses_by_qtype": self.responses_by_qtype.named(qtype_name),
            "responses_by_rcode": self.responses_by_rcode.named(rcode_name),
            "opcodes": self.opcodes.named(opcode_name),
            "messages_over_tcp": self.over_tcp,
            "malformed": dict(Counter(self.malformed).most_common()),
            "transactions": {
                "answered": self.answered,
                "unanswered": self.unanswered,
                "retransmissions": self.retransmissions,
                "rtt_median": statistics.median(rtts) if rtts else None,
                "rtt_p95": _percentile(rtts, 95) if rtts else None,
                "unmatched_responses": self.unmatched,
                "pending_overflow": self.overflow,
                "records_dropped": self.records_dropped,
            },
            "resolvers": [
                {"host": h, "responses": s.responses, "clients": len(s.clients), "ra_responses": s.ra}
                for h, s in resolvers[:TOP_N]
            ],
            "authoritative": [
                {"host": h, "responses": s.responses, "aa_responses": s.aa, "clients": len(s.clients)}
                for h, s in authoritative[:TOP_N]
            ],
            "referrals": self.referrals,
            "servers_dropped": self.servers_dropped,
            "clients_dropped": self.clients_dropped,
            "top_names": _top(self.names),
            "nxdomain_names": _top(self.nxdomain_names),
            "clients": [
                {"host": h, "queries": sum(mix.values()), "qtypes": _named(mix, qtype_name)}
                for h, mix in clients[:TOP_N]
            ],
            "unanswered": to_jsonable(self.unanswered_records),
            "answers": to_jsonable(self.transactions),
        }


class DnsTracker:
    """Fills the "dns", "mdns" and "llmnr" sections from DNS message events."""

    EVENT_TYPES: ClassVar[tuple[type, ...]] = (DnsMessageEvent, DnsWeird)

    def __init__(self) -> None:
        self.stats = {name: _ServiceStats() for name in SERVICES}

    def _of(self, service: str) -> _ServiceStats:
        return self.stats.get(service) or self.stats["dns"]

    def handle(self, event: DnsMessageEvent | DnsWeird) -> None:
        if isinstance(event, DnsWeird):
            malformed = self._of(event.service).malformed
            malformed[event.reason] = malformed.get(event.reason, 0) + 1
        else:
            self._of(event.service).message(event)

    def expire(self, now: float) -> None:
        for stats in self.stats.values():
            stats.expire(now)

    def finish(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, stats in self.stats.items():
            stats.flush()
            out[name] = stats.section()
        return out


__all__ = [
    "MAX_PENDING_QUERIES",
    "QUERY_TIMEOUT",
    "DnsTracker",
    "DnsTransaction",
]
