"""A bounded line splitter for the text protocols (SMTP, POP3, IMAP, FTP, HTTP headers).

Theory of operation: bytes are appended per direction; complete lines (ending in LF, CR stripped)
are handed out in order. A line that grows past `max_line` without an LF raises Malformed at once,
so a 1 MB banner without a newline is never buffered whole.
"""

from __future__ import annotations

from analyzer.errors import Malformed

MAX_LINE = 8192
"""Longest accepted line. RFC 5321 allows 1000 octets per SMTP line and IMAP/FTP servers cap far
below 8 KiB; a longer "line" is garbage or an attack."""


class LineBuffer:
    """Splits one direction of a stream into lines, bounded by `max_line`."""

    __slots__ = ("_buf", "max_line", "name")

    def __init__(self, name: str, max_line: int = MAX_LINE) -> None:
        self._buf = bytearray()
        self.max_line = max_line
        self.name = name
        """Protocol name used in the Malformed reason (e.g. "smtp" -> "smtp.line_too_long")."""

    def feed(self, data: bytes) -> list[bytes]:
        """Append data; return the complete lines now available (without CR LF)."""
        self._buf += data
        lines: list[bytes] = []
        start = 0
        buf = self._buf
        while True:
            nl = buf.find(b"\n", start)
            if nl < 0:
                break
            if nl - start > self.max_line:
                raise Malformed(f"{self.name}.line_too_long", f"{nl - start} bytes")
            end = nl - 1 if nl > start and buf[nl - 1] == 0x0D else nl
            lines.append(bytes(buf[start:end]))
            start = nl + 1
        if start:
            del buf[:start]
        if len(buf) > self.max_line:
            size = len(buf)
            buf.clear()
            raise Malformed(f"{self.name}.line_too_long", f"{size} bytes without a newline")
        return lines

    def take_rest(self) -> bytes:
        """Remove and return whatever is buffered (e.g. the TLS bytes after STARTTLS)."""
        rest = bytes(self._buf)
        self._buf.clear()
        return rest

    def reset(self) -> None:
        self._buf.clear()

    @property
    def pending(self) -> int:
        return len(self._buf)
