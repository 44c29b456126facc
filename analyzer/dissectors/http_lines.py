"""HTTP/1.x start lines and header values as tshark reads them: the request methods Wireshark knows, the
split of request and status lines, and the few header values the dissector keeps (analyzer.dissectors.http
holds the state machine)."""

from __future__ import annotations

from typing import Final

MAX_CONTENT_LENGTH_DIGITS: Final = 18
"""Digits of a Content-Length: 10^18 bytes is an exabyte, more than any real body; a longer number
is invalid (and Python refuses to convert strings of more than 4300 digits)."""
MAX_VALUE_CHARS: Final = 1024
"""Characters kept of a wire string in an event (URI, Host, User-Agent, ...): keeps records small."""

REQUEST_METHODS: Final[frozenset[bytes]] = frozenset(
    b"GET PUT POST HEAD PATCH DELETE OPTIONS CONNECT TRACE COPY LOCK MOVE POLL BCOPY BMOVE MKCOL LABEL "
    b"MERGE SEARCH UNLOCK REPORT UPDATE NOTIFY BDELETE CHECKIN PROPFIND CHECKOUT CCM_POST SUBSCRIBE "
    b"PROPPATCH BPROPFIND BPROPPATCH UNCHECKOUT MKACTIVITY MKWORKSPACE RPC_CONNECT RPC_IN_DATA "
    b"UNSUBSCRIBE RPC_OUT_DATA VERSION-CONTROL BASELINE-CONTROL".split()
)
"""Methods Wireshark 4.0 recognises a request line by (HTTP, WebDAV, GENA, MS-RPCH, Cisco CCM_POST),
so request counts agree with tshark; a line starting with any other token is not HTTP."""
MANDATORY_PREFIX: Final = b"M-"
"""RFC 2774 mandatory-extension prefix of a method (M-SEARCH, M-GET)."""
STATUS_PREFIXES: Final = (b"HTTP/", b"ICY")
"""A status line starts with these (ICY: SHOUTcast's "ICY 200 OK", which tshark reads as HTTP)."""

_START_PREFIXES: Final[frozenset[bytes]] = frozenset(
    word[:i]
    for word in (*REQUEST_METHODS, *(MANDATORY_PREFIX + m for m in REQUEST_METHODS), *STATUS_PREFIXES)
    for i in range(len(word) + 1)
) | {b"\r"}
"""Every prefix of a start line's first token (and the CR of an empty line): a partial line outside
these is not HTTP."""
_LONGEST_TOKEN: Final = max(len(p) for p in _START_PREFIXES) + 1
"""Bytes of a partial line that settle whether it can be a start line (token plus its space)."""


def _is_method(token: bytes) -> bool:
    if token.startswith(MANDATORY_PREFIX):
        token = token[len(MANDATORY_PREFIX) :]
    return token in REQUEST_METHODS


def _is_request_line(line: bytes) -> bool:
    """tshark's rule: the token before the first space (or the whole line) is a known method."""
    sp = line.find(b" ")
    return _is_method(line if sp < 0 else line[:sp])


def _could_start(part: bytes) -> bool:
    """Whether a line that begins with `part` (its end not seen yet) may be a start line."""
    if part.startswith(STATUS_PREFIXES):
        return True
    head = part[:_LONGEST_TOKEN]
    sp = head.find(b" ")
    if sp >= 0:
        return _is_method(head[:sp])
    return head in _START_PREFIXES


def is_http_start(data: bytes) -> bool:
    """Whether a stream's first bytes are an HTTP/1.x request line or status line (for classify)."""
    if data.startswith(b"HTTP/1."):
        return True
    sp = data.find(b" ", 0, _LONGEST_TOKEN)
    return sp > 0 and _is_method(data[:sp])


def _split_request(line: bytes) -> tuple[bytes, bytes, bytes | None]:
    """(method, uri, version token or None) split as tshark does: first and second space."""
    sp = line.find(b" ")
    if sp < 0:
        return line, b"", None
    rest = line[sp + 1 :]
    sp2 = rest.find(b" ")
    if sp2 < 0:
        return line[:sp], rest, None
    return line[:sp], rest[:sp2], rest[sp2 + 1 :].strip() or None


def _split_status(line: bytes) -> tuple[bytes, int | None, bytes]:
    """(version token, status code or None, reason) as tshark reads them: the three characters after
    the version are the code; digits give the number, three other non-space characters give 0."""
    sp = line.find(b" ")
    if sp < 0:
        return line, None, b""
    rest = line[sp + 1 :].lstrip(b" ")
    digits = rest[:3]
    if len(digits) < 3 or b" " in digits:
        return line[:sp], None, rest
    code = int(digits) if digits.isdigit() else 0
    return line[:sp], code, rest[3:].strip()


def _text(raw: bytes | None) -> str | None:
    """Wire bytes as text: UTF-8, undecodable bytes shown as \\xNN, cut to MAX_VALUE_CHARS."""
    if raw is None:
        return None
    return raw[: MAX_VALUE_CHARS * 4].decode("utf-8", "backslashreplace")[:MAX_VALUE_CHARS]


def _version(token: bytes | None) -> str | None:
    if token is None:
        return None
    return _text(token[5:] if token.startswith(b"HTTP/") else token)


def _mime(content_type: bytes | None) -> tuple[str, ...]:
    if not content_type:
        return ()
    media = content_type.split(b";", 1)[0].strip().lower()
    return (_text(media) or "",) if media else ()


def _content_length(values: list[bytes]) -> int | None:
    """The body length the Content-Length fields agree on; -1 when they are invalid or disagree."""
    if not values:
        return None
    seen = {v.strip() for value in values for v in value.split(b",")}
    if len(seen) != 1:
        return -1
    (only,) = seen
    return int(only) if only.isdigit() and len(only) <= MAX_CONTENT_LENGTH_DIGITS else -1
