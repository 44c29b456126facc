"""The tracker contract: `handle(event)`, `expire(now)`, `finish()` (see ../shared/DESIGN.md).

A tracker is built with a `TrackerContext`, declares the event types it consumes in `EVENT_TYPES`,
and at the end returns its JSON-ready sections from `finish()` as {section_name: section}.
Trackers never parse bytes and never read the wall clock: `now` is packet time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol


@dataclass(frozen=True, slots=True)
class TrackerContext:
    """What the pipeline lends trackers: deliberately nothing live. With `--jobs` the trackers run in
    the parent over events replayed from the workers, where no flow table exists, so everything a
    tracker needs must arrive as an event (e.g. ICMP ties errors to flows through ConnRecords)."""


class Tracker(Protocol):
    EVENT_TYPES: ClassVar[tuple[type, ...]]

    def handle(self, event: Any) -> None: ...

    def expire(self, now: float) -> None: ...

    def finish(self) -> dict[str, Any]: ...
