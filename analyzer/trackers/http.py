"""The `http` section: request and response counts as tshark has them, top values, transactions.

Counts come from the head events (`HttpRequest`, `HttpResponse`): one per message with a method or
a status code, pipelined ones included, whether or not the other side of the exchange was seen.
The transaction log is Zeek's http.log, kept for the first MAX_TRANSACTIONS exchanges.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, ClassVar

from analyzer.dissectors.http import HttpRequest, HttpResponse, HttpTransaction, HttpUpgrade
from analyzer.records import to_jsonable

TOP_VALUES = 25
"""Hosts, URIs and user agents listed in the section (the most frequent ones)."""
MAX_DISTINCT_VALUES = 10_000
"""Distinct hosts (URIs, user agents) counted exactly; later new values are summed under OTHER, so
a crawl over millions of URIs costs bounded memory while the frequent values stay exact."""
OTHER = "(other)"
"""Key that collects the values seen after MAX_DISTINCT_VALUES distinct ones."""
MAX_TRANSACTIONS = 1000
"""Transactions kept for the section (in order of completion): a readable log, not a full dump."""


class BoundedCounter:
    """A Counter of wire strings that holds at most `limit` distinct keys (plus OTHER)."""

    __slots__ = ("counts", "limit")

    def __init__(self, limit: int = MAX_DISTINCT_VALUES) -> None:
        self.counts: Counter[str] = Counter()
        self.limit = limit

    def add(self, key: str) -> None:
        if key in self.counts or len(self.counts) < self.limit:
            self.counts[key] += 1
        else:
            self.counts[OTHER] += 1

    def top(self, n: int = TOP_VALUES) -> dict[str, int]:
        """The n most frequent keys, by count then key."""
        ranked = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return dict(ranked[:n])


class HttpTracker:
    """Counts HTTP requests by method and responses by status code; keeps top values and exchanges."""

    EVENT_TYPES: ClassVar[tuple[type, ...]] = (HttpRequest, HttpResponse, HttpUpgrade, HttpTransaction)

    def __init__(self) -> None:
        self.methods: Counter[str] = Counter()
        self.codes: Counter[int] = Counter()
        self.hosts = BoundedCounter()
        self.uris = BoundedCounter()
        self.user_agents = BoundedCounter()
        self.upgrades = 0
        self.transactions: list[HttpTransaction] = []
        self._handlers: dict[type, Callable[[Any], None]] = {
            HttpRequest: self._request,
            HttpResponse: self._response,
            HttpUpgrade: self._upgrade,
            HttpTransaction: self._transaction,
        }

    def handle(self, event: Any) -> None:
        self._handlers[type(event)](event)

    def _request(self, ev: HttpRequest) -> None:
        self.methods[ev.method] += 1
        self.uris.add(ev.uri)
        if ev.host is not None:
            self.hosts.add(ev.host)
        if ev.user_agent is not None:
            self.user_agents.add(ev.user_agent)

    def _response(self, ev: HttpResponse) -> None:
        self.codes[ev.status_code] += 1

    def _upgrade(self, ev: HttpUpgrade) -> None:
        self.upgrades += 1

    def _transaction(self, ev: HttpTransaction) -> None:
        if len(self.transactions) < MAX_TRANSACTIONS:
            self.transactions.append(ev)

    def expire(self, now: float) -> None:
        pass  # all state is counters; open exchanges live in the dissectors

    def finish(self) -> dict[str, Any]:
        log = sorted(self.transactions, key=lambda t: (t.ts, t.uid, t.trans_depth))
        return {
            "http": {
                "request_count": sum(self.methods.values()),
                "response_count": sum(self.codes.values()),
                "requests_by_method": dict(sorted(self.methods.items())),
                "responses_by_code": {str(code): n for code, n in sorted(self.codes.items())},
                "hosts": self.hosts.top(),
                "uris": self.uris.top(),
                "user_agents": self.user_agents.top(),
                "upgrades": self.upgrades,
                "transactions": [to_jsonable(t) for t in log],
            }
        }
