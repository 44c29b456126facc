"""Writing one Zeek log: TSV with Zeek's header (as Zeek's ASCII writer does) or Zeek's JSON lines.

A log is declared by its fields, each with its Zeek type (`time`, `interval`, `count`, `port`, `addr`,
`string`, `enum`, `bool`, `set[string]`, `vector[interval]`, ...). A row is a dict from field name to
a Python value (None: unset). Every value is written by its field's declared type, so one field has
one type across every row, whatever the record behind it held.

TSV follows src/threading/formatters/Ascii.cc and src/logging/writers/ascii/Ascii.cc of Zeek: `#`
header lines (separator, set_separator, empty_field, unset_field, path, open, fields, types), unset
fields as `-`, empty strings and containers as `(empty)`, container elements joined by `,`, times and
intervals with 6 decimals, booleans as T/F, and every backslash, control character, tab and (inside a
container) comma escaped as `\\xNN`. A string that is exactly `-` or `(empty)` is escaped too. `#open`
and `#close` carry packet time (first and last packet, UTC), never the wall clock, so the same capture
gives the same bytes. JSON is one object per row with Zeek's dotted names; unset fields are left out.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any, TextIO

SEPARATOR = "\t"
SET_SEPARATOR = ","
EMPTY_FIELD = "(empty)"
UNSET_FIELD = "-"
HEADER_TIME = "%Y-%m-%d-%H-%M-%S"
"""strftime format of #open and #close (Zeek's Ascii::Timestamp)."""
SCALAR_TYPES = frozenset(
    {"time", "interval", "count", "int", "port", "addr", "subnet", "string", "enum", "bool"}
)
"""Zeek types a field (or a container's element) may have here."""

Field = tuple[str, str]
"""(name, Zeek type) of one log field."""


def element_type(zeek_type: str) -> str | None:
    """`set[string]` -> `string`; None for a scalar type."""
    for prefix in ("set[", "vector["):
        if zeek_type.startswith(prefix) and zeek_type.endswith("]"):
            return zeek_type[len(prefix) : -1]
    return None


def _escape(text: str, in_container: bool) -> str:
    out: list[str] = []
    for ch in text:
        code = ord(ch)
        if ch == "\\" or code < 0x20 or code == 0x7F or (in_container and ch == SET_SEPARATOR):
            out.append(f"\\x{code:02x}")
        else:
            out.append(ch)
    escaped = "".join(out)
    if escaped in (UNSET_FIELD, EMPTY_FIELD):
        return "".join(f"\\x{ord(c):02x}" for c in escaped)
    return escaped


def _number(value: Any) -> float:
    number = float(value)
    return number if math.isfinite(number) else 0.0


def _scalar_tsv(value: Any, zeek_type: str, in_container: bool) -> str:
    if zeek_type in ("time", "interval"):
        return f"{_number(value):.6f}"
    if zeek_type in ("count", "int", "port"):
        return str(int(value))
    if zeek_type == "bool":
        return "T" if value else "F"
    text = str(value)
    if not text:
        return EMPTY_FIELD
    return _escape(text, in_container)


def tsv_value(value: Any, zeek_type: str) -> str:
    """One field as Zeek's ASCII writer prints it."""
    if value is None:
        return UNSET_FIELD
    inner = element_type(zeek_type)
    if inner is None:
        return _scalar_tsv(value, zeek_type, False)
    items = list(value) if isinstance(value, list | tuple | set | frozenset) else [value]
    if not items:
        return EMPTY_FIELD
    return SET_SEPARATOR.join(_scalar_tsv(v, inner, True) for v in items)


def _scalar_json(value: Any, zeek_type: str) -> Any:
    if zeek_type in ("time", "interval"):
        return round(_number(value), 6)
    if zeek_type in ("count", "int", "port"):
        return int(value)
    if zeek_type == "bool":
        return bool(value)
    return str(value)


def json_value(value: Any, zeek_type: str) -> Any:
    """One field as Zeek's JSON writer gives it (None: left out)."""
    if value is None:
        return None
    inner = element_type(zeek_type)
    if inner is None:
        return _scalar_json(value, zeek_type)
    items = list(value) if isinstance(value, list | tuple | set | frozenset) else [value]
    return [_scalar_json(v, inner) for v in items]


def header_time(ts: float | None) -> str:
    """Packet time for #open/#close (UTC; the epoch when the capture had no packet)."""
    when = dt.datetime.fromtimestamp(min(max(ts or 0.0, 0.0), 253402300799.0), dt.UTC)
    return when.strftime(HEADER_TIME)


class LogWriter:
    """Writes the rows of one log to an open text file, in TSV or JSON."""

    def __init__(
        self,
        out: TextIO,
        path: str,
        fields: tuple[Field, ...],
        fmt: str,
        open_ts: float | None,
        header: bool = True,
    ) -> None:
        self.out = out
        """Where the log goes."""
        self.path = path
        """Zeek's name of the log (conn, dns, ...)."""
        self.fields = fields
        """(name, Zeek type) of every column."""
        self.fmt = fmt
        """tsv or json."""
        self.rows = 0
        """Rows written so far."""
        if fmt == "tsv" and header:
            out.write(f"#separator \\x{ord(SEPARATOR):02x}\n")
            for key, value in (
                ("set_separator", SET_SEPARATOR),
                ("empty_field", EMPTY_FIELD),
                ("unset_field", UNSET_FIELD),
                ("path", path),
                ("open", header_time(open_ts)),
            ):
                out.write(f"#{key}{SEPARATOR}{value}\n")
            out.write("#fields" + SEPARATOR + SEPARATOR.join(name for name, _ in fields) + "\n")
            out.write("#types" + SEPARATOR + SEPARATOR.join(kind for _, kind in fields) + "\n")

    def write(self, row: dict[str, Any]) -> None:
        """One row (field name -> value; a missing or None field is unset)."""
        if self.fmt == "tsv":
            cells = [tsv_value(row.get(name), kind) for name, kind in self.fields]
            self.out.write(SEPARATOR.join(cells) + "\n")
        else:
            record: dict[str, Any] = {}
            for name, kind in self.fields:
                value = json_value(row.get(name), kind)
                if value is not None:
                    record[name] = value
            self.out.write(json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n")
        self.rows += 1

    def close(self, close_ts: float | None) -> None:
        """The #close line (TSV), stamped with the last packet's time."""
        if self.fmt == "tsv":
            self.out.write(f"#close{SEPARATOR}{header_time(close_ts)}\n")
