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
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from analyzer.dissectors.dns import (
    DnsMessage,
    DnsMessageEvent,
    DnsRecord,
    DnsWeird,
    opcode_name,
    qclass_name,
    rcode_name,
    rdata_text,
)
from analyzer.records import to_jsonable

SERVICES = ("dns", "mdns", "llmnr")
"""Sections this tracker fills, one per service label."""
QUERY_TIMEOUT = 60.0
"""Seconds of packet time after which an unanswered query is given up. Stub resolvers retry for a few
seconds and give up well within a minute (RFC 1536, glibc: 5 s x 2 attempts x servers)."""
MAX_PENDING_QUERIES = 65536
"""Queries awaiting an answer, over all flows: the 16-bit id space of one busy resolver."""
MAX_PENDING_PER_ID = 16
"""Different questions pending under one (flow, id): more is a scan or garbage, not a client."""
MAX_RTT_SAMPLES = 100_000
"""Round-trip times kept for the median/p95 (exact below this, a uniform reservoir sample above)."""
MAX_SERVERS = 1024
"""Responding hosts tracked for the resolver/authoritative tables."""
MAX_CLIENTS_PER_SERVER = 1024
"""Distinct clients remembered per responding host (the count saturates here)."""
MAX_CLIENTS = 4096
"""Querying hosts tracked for the per-client query mix."""
MAX_QTYPES_PER_CLIENT = 32
"""Record types kept per client; the rest are counted under "other"."""
MAX_TRACKED_NAMES = 10_000
"""Distinct queried names (and, separately, NXDOMAIN names) counted; later new names go to "other"."""
MAX_TRANSACTION_RECORDS = 1000
"""Transactions (dns.log rows) kept in the "answers" list; later ones are counted, not kept."""
MAX_ANSWERS_PER_TRANSACTION = 32
"""Answer records rendered into one transaction row (the rest are left out: rows stay small)."""
MAX_UNANSWERED_RECORDS = 200
"""Unanswered queries kept in the "unanswered" list; all are counted."""
TOP_N = 20
"""Rows shown in the top names / NXDOMAIN names / clients / resolvers lists."""
RESERVOIR_SEED = 0
"""Fixed seed: the reservoir sample (and so the reported percentiles) is reproducible."""

QuestionKey = tuple[str, int, int] | None
"""(lower-cased name, qtype, qclass) of a message's first question, None without one."""


@dataclass(frozen=True, slots=True)
class DnsTransaction:
    """One query and its response, named as Zeek's dns.log names them."""

    ts: float
    """Time of the (first) query, or of the response when the query was not seen."""
    uid: str
    """uid of the flow."""
    orig_h: str
    """Flow originator address."""
    orig_p: int
    """Flow originator port."""
    resp_h: str
    """Flow responder address."""
    resp_p: int
    """Flow responder port."""
    proto: str
    """udp or tcp."""
    trans_id: int
    """DNS transaction id."""
    rtt: float | None
    """Seconds from the first query to the response (None when one side is missing)."""
    query: str | None
    """Queried name."""
    qclass: int | None
    """Query class."""
    qclass_name: str | None
    """Query class name."""
    qtype: int | None
    """Query type."""
    qtype_name: str | None
    """Query type name."""
    rcode: int | None
    """Header response code (None when unanswered)."""
    rcode_name: str | None
    """Response code name."""
    AA: bool
    """Authoritative answer."""
    TC: bool
    """Truncated."""
    RD: bool
    """Recursion desired (from the query when seen)."""
    RA: bool
    """Recursion available."""
    Z: int
    """The three bits between RA and RCODE (Z, AD, CD)."""
    answers: tuple[str, ...]
    """Answer-section rdata in presentation form (undecoded types as <TYPE>)."""
    TTLs: tuple[float, ...]
    """TTL of each answer."""
    rejected: bool
    """Response carried no records at all (Zeek's dns_rejected)."""


class _Pending:
    """A query waiting for its response."""

    __slots__ = ("client", "event", "first_ts", "last_ts", "qkey", "sends")

    def __init__(self, event: DnsMessageEvent, qkey: QuestionKey) -> None:
        msg = event.message
        if len(msg.questions) > 1 or msg.answers or msg.authority or msg.additional:
            slim = replace(msg, questions=msg.questions[:1], answers=(), authority=(), additional=())
            event = replace(event, message=slim)
        self.event = event
        """The first query, its message cut to the first question (a pending entry stays small)."""
        self.qkey = qkey
        self.client = event.src_h
        self.first_ts = self.last_ts = event.ts
        self.sends = 1


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


def _bump(counter: Counter[str], key: str, limit: int, other: str = "other") -> None:
    """Count `key`, or `other` once `limit` distinct keys are held."""
    if key in counter or len(counter) < limit:
        counter[key] += 1
    else:
        counter[other] += 1


def _percentile(sorted_values: list[float], percent: int) -> float:
    """Nearest-rank percentile of a sorted, non-empty list (integer arithmetic: ceil(p * n / 100))."""
    rank = max(1, -(-percent * len(sorted_values) // 100))
    return sorted_values[rank - 1]


def _top(counter: Counter[str], n: int = TOP_N) -> list[dict[str, Any]]:
    return [{"name": k, "count": v} for k, v in counter.most_common(n)]


class _ServiceStats:
    """All state of one section (dns, mdns or llmnr)."""

    def __init__(self) -> None:
        self.query_count = 0
        self.response_count = 0
        self.queries_by_qtype: Counter[str] = Counter()
        self.responses_by_qtype: Counter[str] = Counter()
        self.responses_by_rcode: Counter[str] = Counter()
        self.opcodes: Counter[str] = Counter()
        self.over_tcp = 0
        self.malformed: Counter[str] = Counter()
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
        self.clients: dict[str, Counter[str]] = {}
        self.clients_dropped = 0
        self.names: Counter[str] = Counter()
        self.nxdomain_names: Counter[str] = Counter()
        self.referrals = 0
        self.unanswered_records: list[DnsTransaction] = []
        self.transactions: list[DnsTransaction] = []

    # -- messages --

    def message(self, event: DnsMessageEvent) -> None:
        msg = event.message
        self.opcodes[opcode_name(msg.opcode)] += 1
        if event.proto == "tcp":
            self.over_tcp += 1
        if event.malformed is not None:
            self.malformed[event.malformed] += 1
        if msg.qr:
            self._response(event)
        else:
            self._query(event)

    def _query(self, event: DnsMessageEvent) -> None:
        msg = event.message
        self.query_count += 1
        client = event.src_h
        mix = self.clients.get(client)
        if mix is None and len(self.clients) < MAX_CLIENTS:
            mix = self.clients[client] = Counter()
        elif mix is None:
            self.clients_dropped += 1
        for q in msg.questions:
            name = q.qtype_name
            self.queries_by_qtype[name] += 1
            _bump(self.names, q.name, MAX_TRACKED_NAMES)
            if mix is not None:
                _bump(mix, name, MAX_QTYPES_PER_CLIENT)
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

    def _response(self, event: DnsMessageEvent) -> None:
        msg = event.message
        self.response_count += 1
        rcode = rcode_name(msg.rcode)
        self.responses_by_rcode[rcode] += 1
        for q in msg.questions:
            self.responses_by_qtype[q.qtype_name] += 1
            if msg.rcode == 3:
                _bump(self.nxdomain_names, q.name, MAX_TRACKED_NAMES)
        referral = (
            msg.rcode == 0 and not msg.aa and not msg.answers and any(rr.rtype == 2 for rr in msg.authority)
        )
        if referral:
            self.referrals += 1
        self._server(event, referral)
        query = self._match(event)
        if query is None:
            self.unmatched += 1
            self._record(event, None, event)
            return
        self.answered += 1
        rtt = event.ts - query.first_ts
        self._sample(max(rtt, 0.0))
        self._record(query.event, rtt, event)

    def _match(self, event: DnsMessageEvent) -> _Pending | None:
        key = (event.uid, event.message.id)
        entries = self.pending.get(key)
        if not entries:
            return None
        qkey = _qkey(event.message)
        found = next((e for e in entries if qkey is None or e.qkey is None or e.qkey == qkey), None)
        if found is None:
            return None
        entries.remove(found)
        self.pending_size -= 1
        if not entries:
            del self.pending[key]
        return found

    def _server(self, event: DnsMessageEvent, referral: bool) -> None:
        host = event.src_h
        server = self.servers.get(host)
        if server is None:
            if len(self.servers) >= MAX_SERVERS:
                self.servers_dropped += 1
                return
            server = self.servers[host] = _Server()
        msg = event.message
        server.responses += 1
        server.ra += msg.ra
        server.aa += msg.aa
        server.referrals += referral
        if len(server.clients) < MAX_CLIENTS_PER_SERVER:
            server.clients.add(event.dst_h)

    def _sample(self, rtt: float) -> None:
        self.rtt_seen += 1
        if len(self.rtts) < MAX_RTT_SAMPLES:
            self.rtts.append(rtt)
            return
        slot = self._rng.randrange(self.rtt_seen)
        if slot < MAX_RTT_SAMPLES:
            self.rtts[slot] = rtt

    def _record(self, query: DnsMessageEvent, rtt: float | None, response: DnsMessageEvent) -> None:
        """Keep the dns.log row of a transaction while there is room (built only then: past the
        limit, rows are counted, not made)."""
        if len(self.transactions) < MAX_TRANSACTION_RECORDS:
            self.transactions.append(self._transaction(query, rtt, response))
        else:
            self.records_dropped += 1

    @staticmethod
    def _transaction(
        query: DnsMessageEvent, rtt: float | None, response: DnsMessageEvent | None
    ) -> DnsTransaction:
        """A dns.log row from the query event (or the response standing in for it) and the response."""
        qmsg = query.message
        rmsg = response.message if response is not None else None
        questions = qmsg.questions or (rmsg.questions if rmsg is not None else ())
        q = questions[0] if questions else None
        answers: tuple[str, ...] = ()
        ttls: tuple[float, ...] = ()
        if rmsg is not None:
            shown = rmsg.answers[:MAX_ANSWERS_PER_TRANSACTION]
            answers = tuple(_answer_text(rr) for rr in shown)
            ttls = tuple(float(rr.ttl) for rr in shown)
        return DnsTransaction(
            ts=query.ts,
            uid=query.uid,
            orig_h=query.orig_h,
            orig_p=query.orig_p,
            resp_h=query.resp_h,
            resp_p=query.resp_p,
            proto=query.proto,
            trans_id=qmsg.id,
            rtt=rtt,
            query=q.name if q else None,
            qclass=q.qclass if q else None,
            qclass_name=qclass_name(q.qclass) if q else None,
            qtype=q.qtype if q else None,
            qtype_name=q.qtype_name if q else None,
            rcode=rmsg.rcode if rmsg is not None else None,
            rcode_name=rcode_name(rmsg.rcode) if rmsg is not None else None,
            AA=bool(rmsg and rmsg.aa),
            TC=bool(rmsg.tc if rmsg is not None else qmsg.tc),
            RD=qmsg.rd,
            RA=bool(rmsg and rmsg.ra),
            Z=(rmsg or qmsg).z,
            answers=answers,
            TTLs=ttls,
            rejected=rmsg is not None and not (rmsg.ancount or rmsg.nscount or rmsg.arcount),
        )

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
            self.unanswered_records.append(self._transaction(entry.event, None, None))

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
        clients = sorted(self.clients.items(), key=lambda hc: (-hc[1].total(), hc[0]))
        return {
            "query_count": self.query_count,
            "response_count": self.response_count,
            "queries_by_qtype": dict(self.queries_by_qtype.most_common()),
            "responses_by_qtype": dict(self.responses_by_qtype.most_common()),
            "responses_by_rcode": dict(self.responses_by_rcode.most_common()),
            "opcodes": dict(self.opcodes.most_common()),
            "messages_over_tcp": self.over_tcp,
            "malformed": dict(self.malformed.most_common()),
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
                {"host": h, "queries": mix.total(), "qtypes": dict(mix.most_common())}
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
            self._of(event.service).malformed[event.reason] += 1
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
