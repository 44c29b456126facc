"""The tracker contract: `handle(event)`, `expire(now)`, `finish()` (see ../shared/DESIGN.md).

A tracker is built with no arguments, declares the event types it consumes in `EVENT_TYPES`, and at
the end returns its JSON-ready sections from `finish()` as {section_name: section}. Trackers never
parse bytes and never read the wall clock: `now` is packet time. The pipeline lends them nothing
live: with `--jobs` they run in the parent over events replayed from the workers, where no flow
table exists, so everything a tracker needs arrives as an event (e.g. ICMP ties errors to flows
through ConnRecords).
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol


class Tracker(Protocol):
    EVENT_TYPES: ClassVar[tuple[type, ...]]

    def handle(self, event: Any) -> None: ...

    def expire(self, now: float) -> None: ...

    def finish(self) -> dict[str, Any]: ...
