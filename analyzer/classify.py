"""Hybrid service classification of TCP and UDP flows: the well-known port proposes, the payload confirms.

Theory of operation
-------------------
A flow is classified once, from the first payload of each direction (the pipeline stops after
CLASSIFY_TRIES payloads, or as soon as a payload spoke). For one payload:

1. The service the port proposes (`analyzer/ports.py`) is checked first with every signature of that
   service, strong or weak: a match gives (proposed, "both"); the port's own protocol wins over any
   other match.
2. Otherwise the strong signatures (`analyzer/signatures.py`) are tried in table order: a match names
   the flow by payload, (seen, "payload"), a mismatch with the port if it proposed something else;
   TLS seen on an implicit-TLS port (465, 993, ...) is "both".
3. Otherwise the port's proposal stands, (proposed, "port"), or the flow stays unnamed (None, None).

Weak signatures never name a flow on a port that does not propose their service: a one-byte type check
fires on random data. Flows that never carried a payload are named by port when they end (see
`port_only`). The "expected" label (an FTP data channel announced by its control channel) is given by
the pipeline, not here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from analyzer.ports import TCP_SERVICES, UDP_SERVICES, tcp_port_service, udp_port_service
from analyzer.signatures import CONFIRM_TCP, CONFIRM_UDP, STRONG_TCP, STRONG_UDP

Test = Callable[[bytes, bool], bool]

IMPLICIT_TLS: Final = {"smtps": "smtp", "pop3s": "pop3", "imaps": "imap", "ftps": "ftp", "tls": "tls"}
"""Ports whose protocol runs inside TLS from the first byte: the payload says TLS."""


def port_service(orig_port: int, resp_port: int) -> str | None:
    """The service the responder's TCP port proposes (or, failing that, the originator's)."""
    return tcp_port_service(orig_port, resp_port)


def _classify(
    port_label: str | None,
    payload: bytes,
    from_client: bool,
    strong: tuple[tuple[str, Test], ...],
    confirm: dict[str, tuple[Test, ...]],
) -> tuple[str | None, str | None]:
    if port_label is not None:
        own = confirm.get("tls" if port_label in IMPLICIT_TLS else port_label, ())
        for test in own:
            if test(payload, from_client):
                return port_label, "both"  # the port's own protocol matches: it wins over any other
    for name, test in strong:
        if test(payload, from_client):
            if name == port_label or (name == "tls" and port_label in IMPLICIT_TLS):
                return port_label, "both"
            return name, "payload"
    return (port_label, "port") if port_label else (None, None)


def classify(port_label: str | None, payload: bytes, from_client: bool) -> tuple[str | None, str | None]:
    """(service, how) for a TCP flow whose port proposes `port_label`, given a first payload."""
    return _classify(port_label, payload, from_client, STRONG_TCP, CONFIRM_TCP)


def classify_datagram(
    port_label: str | None, payload: bytes, from_client: bool
) -> tuple[str | None, str | None]:
    """(service, how) for a UDP flow whose port proposes `port_label`, given a first datagram."""
    return _classify(port_label, payload, from_client, STRONG_UDP, CONFIRM_UDP)


def port_only(proto: str, orig_port: int, resp_port: int) -> tuple[str | None, str | None]:
    """(service, "port") for a flow that ends without a payload having named it; (None, None) if its
    ports propose nothing. `proto` is "tcp" or "udp"."""
    if proto == "tcp":
        label = tcp_port_service(orig_port, resp_port)
    elif proto == "udp":
        label = udp_port_service(orig_port, resp_port)
    else:
        label = None
    return (label, "port") if label else (None, None)


KNOWN_SERVICES: Final = frozenset(TCP_SERVICES.values()) | frozenset(UDP_SERVICES.values())
"""Every service name a port can propose."""
