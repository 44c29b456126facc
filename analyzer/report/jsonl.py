"""Events as JSON lines: one object per event, Zeek-style, streamed as the pipeline produces them.

This is the raw internal event stream (several event types per `_path`, one line per message); the
Zeek-shaped logs (one row per transaction, Zeek's field names and types) are `pcap-analyzer logs`
(analyzer/report/zeek/). Every line carries `_path` (the log it belongs to: conn, dns, dhcp, icmp, ndp,
tls, x509, http, smtp, pop3, imap, ftp, smb, weird, ...; declared on each event class, see
`event_path`), `_type` (the event's class) and the event's fields under Zeek's
names (`ts`, `uid`, `id.orig_h`, `id.orig_p`, `id.resp_h`, `id.resp_p`, ...) as
`analyzer.records.to_jsonable` writes them. With flat keys every dot in a key becomes an underscore
(`id_orig_h`), as Elasticsearch wants. Nothing is collected: each event is written when it happens.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from analyzer.records import to_jsonable

PROTOCOL_PACKAGES = ("analyzer.dissectors.", "analyzer.trackers.")
"""Modules whose classes default to the protocol their module (or package) is named after."""
SECRET_FIELDS = frozenset({"password", "passwd", "pass", "secret", "credential", "credentials"})
"""Field names whose text is never written, whatever a dissector put there (defence in depth: the
dissectors already keep no password)."""
HIDDEN = "<hidden>"
"""What a secret field shows instead of its value."""


def declared(cls: type, name: str) -> Any:
    """What an event class declares about its log through the static method `name` (`log_path`,
    `log_path_field`, `log_renames`), or None. Static methods rather than ClassVar attributes: mypyc
    turns a ClassVar of a compiled dataclass into a field."""
    method = getattr(cls, name, None)
    return method() if callable(method) else None


def default_path(cls: type) -> str:
    """The `_path` of an event class that declares none: its protocol's module or package
    (analyzer.dissectors.tls.handshake.X -> tls), else the last part of its module's name."""
    module = cls.__module__
    for prefix in PROTOCOL_PACKAGES:
        if module.startswith(prefix):
            return module[len(prefix) :].split(".", 1)[0]
    return module.rsplit(".", 1)[-1]


SESSION_PATHS = ("smtp", "pop3", "imap", "ftp", "mysql", "postgresql")
"""`_path`s that events shared by several protocols (`log_path_field`) take from their protocol field."""
EVENT_MODULES = ("analyzer.dissectors.", "analyzer.trackers.", "analyzer.pipeline")
"""Where event and record classes live (what `known_paths` looks through)."""


def known_paths() -> list[str]:
    """Every `_path` an event can have, sorted (what `events --path` accepts): the path each event or
    record class declares or defaults to, plus the protocols of the shared session events."""
    import dataclasses
    import sys

    import analyzer.pipeline  # noqa: F401  (loads every dissector and tracker through the registry)

    paths = set(SESSION_PATHS)
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(EVENT_MODULES):
            continue
        for cls in vars(module).values():
            if not (isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == name):
                continue
            if isinstance(declared(cls, "log_path_field"), str):
                continue
            path = declared(cls, "log_path")
            paths.add(path if isinstance(path, str) and path else default_path(cls))
    return sorted(paths)


def event_path(event: object) -> str:
    """The `_path` (log name) of one event, as its class declares it: `log_path()`, or
    `log_path_field()` (events shared by several protocols: the field naming the protocol), else
    `default_path`."""
    cls = type(event)
    path = declared(cls, "log_path")
    if isinstance(path, str) and path:
        return path
    via = declared(cls, "log_path_field")
    if isinstance(via, str):
        value = getattr(event, via, None)
        if isinstance(value, str) and value:
            return value
    return default_path(cls)


def _hide_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (HIDDEN if k.lower() in SECRET_FIELDS and isinstance(v, str) and v else _hide_secrets(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_hide_secrets(v) for v in value]
    return value


def _flatten_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k.replace(".", "_"): _flatten_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_flatten_keys(v) for v in value]
    return value


def event_record(event: object, flat_keys: bool = False) -> dict[str, Any]:
    """One event as a JSON-ready dict: `_path`, `_type`, then its fields (Zeek names)."""
    fields = to_jsonable(event)
    if not isinstance(fields, dict):
        fields = {"value": fields}
    renames = dict(declared(type(event), "log_renames") or ())  # e.g. weird.log's name and addl
    if renames:
        fields = {renames.get(k, k): v for k, v in fields.items()}
    record: dict[str, Any] = {"_path": event_path(event), "_type": type(event).__name__}
    record.update(_hide_secrets(fields))
    return _flatten_keys(record) if flat_keys else record


class JsonLinesWriter:
    """An event sink for `Pipeline(event_sink=...)` writing each event as one JSON line."""

    def __init__(self, out: TextIO, flat_keys: bool = False, paths: Iterable[str] | None = None) -> None:
        self.out = out
        """Where lines go."""
        self.flat_keys = flat_keys
        """Dots in keys become underscores."""
        self.paths = frozenset(paths) if paths else None
        """Only events of these `_path`s are written (None: all)."""
        self.written = 0
        """Lines written so far."""

    def __call__(self, event: object) -> None:
        if self.paths is not None and event_path(event) not in self.paths:
            return
        record = event_record(event, self.flat_keys)
        self.out.write(json.dumps(record, separators=(",", ":")) + "\n")
        self.written += 1


def write_events(
    paths: list[str],
    out: TextIO,
    flat_keys: bool = False,
    only: Iterable[str] | None = None,
    on_file: Callable[[Any], None] | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> JsonLinesWriter:
    """Run the pipeline over capture files in order, writing every event to `out` as it comes;
    `on_file` gets each file's FileStats (with its error, if any); `progress` gets (bytes read,
    file size) now and then."""
    from analyzer.pipeline import Pipeline

    writer = JsonLinesWriter(out, flat_keys, only)
    pipe = Pipeline(event_sink=writer)
    for path in paths:
        stats = pipe.run_file(path, progress)
        if on_file is not None:
            on_file(stats)
    return writer
