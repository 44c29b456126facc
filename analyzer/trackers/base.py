"""The tracker contract: `handle(event)`, `expire(now)`, `finish()` (see ../shared/DESIGN.md).

A tracker is built with a `TrackerContext`, declares the event types it consumes in `EVENT_TYPES`,
and at the end returns its JSON-ready sections from `finish()` as {section_name: section}.
Trackers never parse bytes and never read the wall clock: `now` is packet time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from analyzer.flows import Flow


@dataclass(frozen=True, slots=True)
class TrackerContext:
    """What the pipeline lends trackers."""

    lookup_flow: Callable[[int, bytes, int, bytes, int], Flow | None]
    """Find a live flow by (proto, addr, port, addr, port) in either direction (addresses as bytes)."""


class Tracker(Protocol):
    EVENT_TYPES: ClassVar[tuple[type, ...]]

    def handle(self, event: Any) -> None: ...

    def expire(self, now: float) -> None: ...

    def finish(self) -> dict[str, Any]: ...
