"""The `quic` section: ClientHellos decrypted from QUIC Initial packets (SNI, ALPN, JA4), server
hellos (cipher), connections by QUIC version, packets by type, and what broke.

`client_hello` counts QuicClientHello events, one per packet that completed a ClientHello, as tshark
counts frames with `quic && tls.handshake.type == 1`. QUIC hellos never reach the `tls` section.
Counters keyed by wire strings are bounded (`MAX_DISTINCT_KEYS`, overflow under `OTHER_KEY`) and the
connection records kept are capped, so memory does not grow with the capture.
"""

from __future__ import annotations

from typing import Any, ClassVar

from analyzer.dissectors.quic import (
    QuicClientHello,
    QuicConnection,
    QuicPackets,
    QuicServerHello,
    QuicWeird,
)
from analyzer.records import to_jsonable
from analyzer.trackers.tls import _BoundedCounter

MAX_CONNECTION_RECORDS = 1000
"""quic.log records kept in the section: the earliest by (ts, uid); all are counted."""


class QuicTracker:
    """Builds the `quic` section."""

    EVENT_TYPES: ClassVar[tuple[type, ...]] = (
        QuicClientHello,
        QuicServerHello,
        QuicConnection,
        QuicPackets,
        QuicWeird,
    )

    def __init__(self, ctx: object = None) -> None:
        self.client_hello = 0
        self.server_hello = 0
        self.hello_retry_requests = 0
        self.without_sni = 0
        self.connections = 0
        self.connections_with_client_hello = 0
        self.retries = 0
        self.decrypted_initials = 0
        self.sni = _BoundedCounter()
        self.alpn = _BoundedCounter()
        self.ja4 = _BoundedCounter()
        self.ja4s = _BoundedCounter()
        self.ciphers = _BoundedCounter()
        self.versions = _BoundedCounter()
        self.client_hello_versions = _BoundedCounter()
        self.packets = _BoundedCounter()
        self.malformed = _BoundedCounter()
        self.records: list[QuicConnection] = []
        self._handlers: dict[type, Any] = {
            QuicClientHello: self._client_hello,
            QuicServerHello: self._server_hello,
            QuicConnection: self._connection,
            QuicPackets: self._packets,
            QuicWeird: self._weird,
        }

    def handle(self, event: Any) -> None:
        self._handlers[type(event)](event)

    def expire(self, now: float) -> None:
        pass  # every event is complete when it arrives

    def _client_hello(self, ev: QuicClientHello) -> None:
        self.client_hello += 1
        self.client_hello_versions.add(ev.version)
        if ev.server_name is not None:
            self.sni.add(ev.server_name)
        else:
            self.without_sni += 1
        for proto in ev.alpn:
            self.alpn.add(proto)
        self.ja4.add(ev.ja4)

    def _server_hello(self, ev: QuicServerHello) -> None:
        self.server_hello += 1
        if ev.hello_retry_request:
            self.hello_retry_requests += 1
        self.ciphers.add(ev.cipher_name)
        self.ja4s.add(ev.ja4s)

    def _connection(self, rec: QuicConnection) -> None:
        self.connections += 1
        self.versions.add(rec.version)
        if rec.client_hello_seen:
            self.connections_with_client_hello += 1
        if rec.retry:
            self.retries += 1
        self.records.append(rec)
        if len(self.records) >= 2 * MAX_CONNECTION_RECORDS:  # amortised trim: under 2x the cap
            self._trim()

    def _packets(self, ev: QuicPackets) -> None:
        for kind, n in ev.by_type:
            self.packets.add(kind, n)
        self.decrypted_initials += ev.decrypted_initials

    def _weird(self, ev: QuicWeird) -> None:
        self.malformed.add(ev.reason)

    def _trim(self) -> None:
        self.records.sort(key=lambda r: (r.ts, r.uid, r.client_initial_dcid))
        del self.records[MAX_CONNECTION_RECORDS:]

    def finish(self) -> dict[str, Any]:
        self._trim()
        return {
            "quic": {
                "client_hello": self.client_hello,
                "server_hello": self.server_hello,
                "hello_retry_requests": self.hello_retry_requests,
                "client_hello_without_sni": self.without_sni,
                "sni": self.sni.as_dict(),
                "alpn": self.alpn.as_dict(),
                "ja4": self.ja4.as_dict(),
                "ja4s": self.ja4s.as_dict(),
                "ciphers": self.ciphers.as_dict(),
                "client_hello_versions": self.client_hello_versions.as_dict(),
                "connection_count": self.connections,
                "connections_with_client_hello": self.connections_with_client_hello,
                "versions": self.versions.as_dict(),
                "retries": self.retries,
                "packets": self.packets.as_dict(),
                "decrypted_initials": self.decrypted_initials,
                "malformed_packets": self.malformed.as_dict(),
                "connections": [to_jsonable(r) for r in self.records],
            }
        }


__all__ = ["MAX_CONNECTION_RECORDS", "QuicTracker"]
