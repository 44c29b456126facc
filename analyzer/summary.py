"""The Summary: everything one run found, as a versioned, JSON-ready object.

The core sections (capture, protocols, flows, malformed) are fixed by the schema
`pcap-analyzer/summary/1`; every tracker adds its own sections beside them (icmp, ndp, dns, ...).
Key names are a public contract: keep them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from analyzer.records import to_jsonable

if TYPE_CHECKING:
    from analyzer.pipeline import FileStats, Weird

SCHEMA = "pcap-analyzer/summary/1"
CORE_SECTIONS = ("capture", "protocols", "flows", "malformed")


def rates(packets: int, data: int, duration: float) -> dict[str, float | None]:
    """capinfos' derived numbers: data byte and bit rate, average packet size and packet rate
    (None where undefined: no packets, or a zero duration)."""
    per_second = duration > 0
    return {
        "data_rate": data / duration if per_second else None,
        "bit_rate": 8 * data / duration if per_second else None,
        "avg_packet_size": data / packets if packets else None,
        "packet_rate": packets / duration if per_second else None,
    }


@dataclass(slots=True)
class CoreCounts:
    """What the pipeline itself counted, handed to `Summary.build`: from one `Pipeline`
    (`Pipeline.core_counts()`), or added up over the workers of a --jobs run (`parallel.merge`)."""

    files: list[FileStats]
    """Per-input-file facts, in input order."""
    packets: int = 0
    """Frames analysed."""
    bytes: int = 0
    """Their bytes on the wire."""
    first_ts: float | None = None
    """Earliest packet time seen."""
    last_ts: float | None = None
    """Latest packet time seen."""
    link_types: Counter[str] = field(default_factory=Counter)
    """Frames by link type name."""
    protocols: Counter[str] = field(default_factory=Counter)
    """Frames by protocol layer."""
    malformed: Counter[str] = field(default_factory=Counter)
    """Malformations by reason."""
    weirds: list[Weird] = field(default_factory=list)
    """The malformations kept with their details (bounded by the pipeline)."""
    evicted: int = 0
    """Flows closed early because the flow table was full."""
    fragments: dict[str, int] = field(default_factory=dict)
    """IP fragment reassembly counters."""


@dataclass(slots=True)
class Summary:
    """A finished analysis: the core sections plus one section per protocol area."""

    capture: dict[str, Any]
    protocols: dict[str, int]
    malformed: dict[str, int]
    sections: dict[str, Any] = field(default_factory=dict)
    weirds: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def build(cls, core: CoreCounts, sections: dict[str, Any]) -> Summary:
        """The Summary of the pipeline's counters `core` and the trackers' finished `sections`."""
        files: list[dict[str, Any]] = [
            {
                "path": f.path,
                "format": f.format,
                "byte_order": f.byte_order,
                "compressed": f.compressed,
                "packets": f.packets,
                "bytes": f.bytes,
                "first_ts": f.first_ts,
                "last_ts": f.last_ts,
                "duration": (f.last_ts - f.first_ts)
                if f.first_ts is not None and f.last_ts is not None
                else 0.0,
                "link_types": dict(f.link_types),
                "error": f.error,
                "error_offset": f.error_offset,
                "file_size": f.file_size,
                "interfaces": list(f.interfaces),
                "snaplen": max((i["snaplen"] for i in f.interfaces), default=None),
            }
            for f in core.files
        ]
        for entry in files:
            entry.update(rates(entry["packets"], entry["bytes"], entry["duration"]))
        capture: dict[str, Any] = {
            "files": files,
            "packets": core.packets,
            "bytes": core.bytes,
            "first_ts": core.first_ts,
            "last_ts": core.last_ts,
            "duration": (core.last_ts - core.first_ts) if core.first_ts is not None and core.last_ts else 0.0,
            "link_types": dict(core.link_types.most_common()),
        }
        sections.setdefault("flows", {})
        sections["flows"]["evicted"] = core.evicted
        sections["ip_fragments"] = dict(core.fragments)
        weirds = [{"ts": w.ts, "uid": w.uid, "name": w.name, "addl": w.detail} for w in core.weirds]
        return cls(
            capture=capture,
            protocols=dict(core.protocols.most_common()),
            malformed=dict(core.malformed.most_common()),
            sections=sections,
            weirds=weirds,
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema": SCHEMA,
            "capture": self.capture,
            "protocols": self.protocols,
            "flows": self.sections.get("flows", {}),
            "malformed": self.malformed,
        }
        for name, section in self.sections.items():
            if name not in out:
                out[name] = section
        out["weird"] = self.weirds
        result: dict[str, Any] = to_jsonable(out)
        return with_findings(result)


def with_findings(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary JSON with its `findings` list right after `capture` (see analyzer/findings.py)."""
    from analyzer.findings import findings_json

    findings = findings_json(summary)
    out: dict[str, Any] = {}
    for key, value in summary.items():
        if key != "findings":
            out[key] = value
        if key == "capture":
            out["findings"] = findings
    return out
