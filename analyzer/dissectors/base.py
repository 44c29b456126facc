"""The two dissector contracts (see ../shared/DESIGN.md) and the events the pipeline itself consumes.

- A datagram parser is a pure function `parse(payload: bytes, pkt: Packet) -> list[Event]`.
- A stream dissector is one object per TCP flow, built as `Dissector(flow)`, with
  `feed(data, from_client, ts)`, `gap(size, from_client, ts)` and `close(ts)`, each returning a list of
  events. Inside, readers return an event, None for "need more bytes", or raise `Malformed`.
- It also answers `opaque(from_client)`: how many of the bytes right after those it was given it will
  not look at (TLS application data, an HTTP body of known length; 0 when it needs them all). The
  pipeline asks after each delivery; the reassembler then swallows those bytes without buffering
  them (DESIGN.md rule 11) and reports them as `skipped(size, from_client, ts)`, which must do what
  `feed` would have done with `size` such bytes. Gaps inside them still arrive through `gap`.

A stream dissector may relabel its own flow (`flow.service = "smtp"`, e.g. after STARTTLS) since
it is handed the Flow. Events are frozen, slotted dataclasses defined by each protocol module; the
pipeline routes each event to the trackers that declare its type in their `EVENT_TYPES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from analyzer.decode import Packet
    from analyzer.flows import Flow

Event = object
"""Any frozen dataclass a dissector emits."""

DatagramParser = Callable[[bytes, "Packet"], list[Event]]


class StreamDissector(Protocol):
    """One per TCP flow; receives the reassembled byte stream of both directions."""

    def feed(self, data: bytes, from_client: bool, ts: float) -> list[Event]: ...

    def gap(self, size: int, from_client: bool, ts: float) -> list[Event]: ...

    def close(self, ts: float) -> list[Event]: ...

    def opaque(self, from_client: bool) -> int: ...

    def skipped(self, size: int, from_client: bool, ts: float) -> list[Event]: ...


StreamDissectorFactory = Callable[["Flow"], StreamDissector]


class FlowDatagramDissector(Protocol):
    """One per UDP flow whose protocol keeps state across datagrams (QUIC): fed each datagram whole."""

    def feed(self, data: bytes, from_client: bool, ts: float) -> list[Event]: ...

    def close(self, ts: float) -> list[Event]: ...


FlowDatagramDissectorFactory = Callable[["Flow"], FlowDatagramDissector]


@dataclass(frozen=True, slots=True)
class ExpectedConnection:
    """A dissector announces a connection to come (FTP PASV/PORT data channel, ...)."""

    @staticmethod
    def log_path() -> str:
        """Log (`_path`) of this event in `events`."""
        return "expected_conn"

    ts: float
    """When it was announced."""
    resp_h: str
    """Address that will accept the connection."""
    resp_p: int
    """Port that will accept the connection."""
    service: str
    """Label the connection gets when it shows up (e.g. "ftp-data")."""
    parent_uid: str
    """uid of the flow that announced it."""
    orig_h: str | None = None
    """Address expected to connect, when known."""


@dataclass(frozen=True, slots=True)
class TlsUpgrade:
    """A clear-text session switched to TLS in the same stream (STARTTLS, STLS, AUTH TLS accepted)."""

    @staticmethod
    def log_path_field() -> str:
        """Shared by several protocols: this field names the `_path` in `events`."""
        return "protocol"

    ts: float
    """Time of the server's positive answer."""
    uid: str
    """Connection uid."""
    protocol: str
    """The clear-text protocol that was upgraded (smtp, pop3, imap, ftp)."""
    command: str
    """The command that asked for the upgrade, as sent (e.g. "STARTTLS", "AUTH TLS")."""
