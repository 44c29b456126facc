"""The `tls` section: hellos, negotiated versions, SNI, ALPN, ciphers, fingerprints, handshakes,
certificates and alerts, counted from the TLS dissector's events.

Every counter keyed by a wire-derived string is a `_BoundedCounter` (at most `MAX_DISTINCT_KEYS`
keys; later new keys are summed under `OTHER_KEY`), and the record lists are capped, so memory
depends on these limits, never on the capture size.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar

from analyzer.dissectors.tls import (
    TlsAlert,
    TlsClientHello,
    TlsHandshake,
    TlsMalformedMessage,
    TlsServerHello,
    cipher_name,
    version_name,
)
from analyzer.dissectors.x509 import X509Record, x509_jsonable
from analyzer.records import to_jsonable

MAX_DISTINCT_KEYS = 10_000
"""Distinct keys per counter (SNI, JA3, ...): a busy day of browsing shows a few thousand SNIs."""
OTHER_KEY = "(other)"
"""Counter key that sums the values beyond MAX_DISTINCT_KEYS."""
MAX_HANDSHAKES = 1000
"""ssl.log records kept in the section: the earliest by (ts, uid), so the choice does not depend on
the order in which flows close (all are counted)."""
MAX_CERTIFICATES = 500
"""Distinct (certificate, SNI) records kept in the section (all are counted)."""


class _BoundedCounter:
    """A Counter that stops adding keys at MAX_DISTINCT_KEYS and sums the overflow under OTHER_KEY."""

    __slots__ = ("counts", "limit")

    def __init__(self, limit: int = MAX_DISTINCT_KEYS) -> None:
        self.counts: Counter[str] = Counter()
        self.limit = limit

    def add(self, key: str, n: int = 1) -> None:
        if key in self.counts or len(self.counts) < self.limit:
            self.counts[key] += n
        else:
            self.counts[OTHER_KEY] += n

    def as_dict(self) -> dict[str, int]:
        """Most common first, ties by key, for stable output."""
        return dict(sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0])))


class TlsTracker:
    """Builds the `tls` section."""

    EVENT_TYPES: ClassVar[tuple[type, ...]] = (
        TlsClientHello,
        TlsServerHello,
        X509Record,
        TlsAlert,
        TlsMalformedMessage,
        TlsHandshake,
    )

    def __init__(self) -> None:
        self.client_hello = 0
        self.client_hello_truncated = 0
        self.server_hello = 0
        self.hello_retry_requests = 0
        self.sslv2_client_hello = 0
        self.offering_tls13 = 0
        self.without_sni = 0
        self.versions = _BoundedCounter()
        self.client_versions = _BoundedCounter()
        self.sni = _BoundedCounter()
        self.alpn = _BoundedCounter()
        self.alpn_selected = _BoundedCounter()
        self.ciphers = _BoundedCounter()
        self.curves = _BoundedCounter()
        self.ja3 = _BoundedCounter()
        self.ja3s = _BoundedCounter()
        self.ja4 = _BoundedCounter()
        self.ja4s = _BoundedCounter()
        self.alerts = _BoundedCounter()
        self.malformed = _BoundedCounter()
        self.handshake_count = 0
        self.established = 0
        self.incomplete = 0
        self.resumed = 0
        self.app_bytes = {"client": 0, "server": 0}
        self.handshakes: list[TlsHandshake] = []
        self.certificate_count = 0
        self.certificates: dict[tuple[str, str | None], X509Record] = {}
        self._handlers: dict[type, Any] = {
            TlsClientHello: self._client_hello,
            TlsServerHello: self._server_hello,
            X509Record: self._certificate,
            TlsAlert: self._alert,
            TlsMalformedMessage: self._malformed,
            TlsHandshake: self._handshake,
        }

    def handle(self, event: Any) -> None:
        self._handlers[type(event)](event)

    def expire(self, now: float) -> None:
        pass  # nothing is pending: each event is complete when it arrives

    def _client_hello(self, ev: TlsClientHello) -> None:
        if ev.truncated:
            # counted apart: tshark 4.0 does not dissect a hello cut by the snap length (it shows only
            # the record header), so `client_hello` stays comparable; its SNI is in the ssl.log record
            self.client_hello_truncated += 1
            return
        self.client_hello += 1
        if ev.sslv2:
            self.sslv2_client_hello += 1
        if ev.offers_tls13:
            self.offering_tls13 += 1
        self.client_versions.add(version_name(ev.version))
        if ev.server_name is not None:
            self.sni.add(ev.server_name)
        else:
            self.without_sni += 1
        for proto in ev.alpn:
            self.alpn.add(proto)
        if ev.ja3 is not None:
            self.ja3.add(ev.ja3)
        self.ja4.add(ev.ja4)

    def _server_hello(self, ev: TlsServerHello) -> None:
        self.server_hello += 1
        if ev.hello_retry_request:
            self.hello_retry_requests += 1
        self.versions.add(version_name(ev.version))
        self.ciphers.add(cipher_name(ev.cipher))
        if ev.alpn is not None:
            self.alpn_selected.add(ev.alpn)
        self.ja3s.add(ev.ja3s)
        self.ja4s.add(ev.ja4s)

    def _certificate(self, rec: X509Record) -> None:
        self.certificate_count += 1
        key = (rec.fingerprint, rec.sni)
        if key not in self.certificates and len(self.certificates) < MAX_CERTIFICATES:
            self.certificates[key] = rec

    def _alert(self, ev: TlsAlert) -> None:
        if ev.level is None:
            self.alerts.add(f"{ev.level_name} alert")
        else:
            self.alerts.add(f"{ev.level_name} {ev.description_name}")

    def _malformed(self, ev: TlsMalformedMessage) -> None:
        self.malformed.add(ev.reason)

    def _handshake(self, rec: TlsHandshake) -> None:
        self.handshake_count += 1
        if rec.established:
            self.established += 1
        elif rec.client_hellos:
            self.incomplete += 1
        if rec.resumed:
            self.resumed += 1
        if rec.curve is not None:
            self.curves.add(rec.curve)
        self.app_bytes["client"] += rec.client_app_bytes
        self.app_bytes["server"] += rec.server_app_bytes
        self.handshakes.append(rec)
        if len(self.handshakes) >= 2 * MAX_HANDSHAKES:  # amortised trim: memory stays under 2x the cap
            self._trim_handshakes()

    def _trim_handshakes(self) -> None:
        self.handshakes.sort(key=lambda h: (h.ts, h.uid))
        del self.handshakes[MAX_HANDSHAKES:]

    def finish(self) -> dict[str, Any]:
        self._trim_handshakes()
        certs = list(self.certificates.values())
        findings = {
            "expired": sum(c.expired for c in certs),
            "not_yet_valid": sum(c.not_yet_valid for c in certs),
            "self_signed": sum(c.self_signed for c in certs),
            "sni_mismatch": sum(c.sni_matches is False for c in certs),
        }
        return {
            "tls": {
                "client_hello": self.client_hello,
                "server_hello": self.server_hello,
                "hello_retry_requests": self.hello_retry_requests,
                "sslv2_client_hello": self.sslv2_client_hello,
                "client_hello_offering_tls13": self.offering_tls13,
                "client_hello_without_sni": self.without_sni,
                "client_hello_truncated": self.client_hello_truncated,
                "versions": self.versions.as_dict(),
                "client_hello_versions": self.client_versions.as_dict(),
                "sni": self.sni.as_dict(),
                "alpn": self.alpn.as_dict(),
                "alpn_selected": self.alpn_selected.as_dict(),
                "ciphers": self.ciphers.as_dict(),
                "curves": self.curves.as_dict(),
                "ja3": self.ja3.as_dict(),
                "ja3s": self.ja3s.as_dict(),
                "ja4": self.ja4.as_dict(),
                "ja4s": self.ja4s.as_dict(),
                "handshake_count": self.handshake_count,
                "established": self.established,
                "incomplete_handshakes": self.incomplete,
                "resumed": self.resumed,
                "application_data_bytes": dict(self.app_bytes),
                "handshakes": [to_jsonable(h) for h in self.handshakes],
                "certificate_count": self.certificate_count,
                "certificates": [x509_jsonable(c) for c in certs],
                "certificate_findings": findings,
                "alerts": self.alerts.as_dict(),
                "malformed_messages": self.malformed.as_dict(),
            }
        }


__all__ = ["MAX_CERTIFICATES", "MAX_DISTINCT_KEYS", "MAX_HANDSHAKES", "TlsTracker"]
