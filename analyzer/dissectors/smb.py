"""SMB over the NetBIOS session service (TCP 139/445) and SMB1 browser datagrams (UDP 138).

Theory of operation
-------------------
Framing. Every message on TCP is preceded by a 4-byte NetBIOS session service header (RFC 1002
section 4.3.1; on 445 MS-SMB2 2.1 uses the same header with a 24-bit length): a type byte (0x00
session message, 0x81 session request, 0x82/0x83 positive/negative response, 0x84 retarget, 0x85
keep-alive) and a length bounded by `MAX_MESSAGE_LENGTH`. Each direction runs

    HEADER --4 bytes--> BODY --length bytes--> HEADER
       \\--invalid type/length/protocol id--> HUNT (not yet in sync) or Malformed (in sync)

A session message starts with a protocol id: 0xFF 'SMB' (SMB1), 0xFE 'SMB' (SMB2/3), 0xFD 'SMB'
(SMB3 transform header: encrypted, counted only) or 0xFC 'SMB' (SMB3 compression transform, counted
only). Bodies are never buffered whole: SMB1 messages keep their first `MAX_KEPT` bytes, SMB2
messages are cut into their compound PDUs on the fly (each header's NextCommand gives the offset of
the next one) and each PDU keeps its first `MAX_KEPT` bytes, so a multi-megabyte READ or WRITE costs
no memory and every header of a compound is still seen.

HUNT. A direction that starts mid-message (the capture began mid-connection) or loses its place
after a TCP gap scans for the next "00 len len len [FC-FF] 'SMB'" pattern, keeping 8 bytes between
chunks, and resumes framing there. A gap inside a message body keeps the framing: the current PDU
stops growing (what was kept is still parsed) and offsets stay right.

Parsing. Every SMB1 message and SMB2 PDU becomes an `SmbCommand` event (command name, request or
response, status, function group). Requests wait in a bounded table keyed by message id so that
responses can be understood: NEGOTIATE (dialects offered / chosen), SESSION_SETUP (NTLMSSP
AUTHENTICATE user/domain/host found by its signature inside the security blob; the response status
tells whether it worked), TREE_CONNECT (share path and type), CREATE / NT_CREATE_ANDX (file name,
file id), READ/WRITE (bytes), CLOSE (the file's record is emitted). An SMB2 compound's related
operations use the file id 0xFF..FF, meaning "the file the CREATE before me in this compound
opened": they are resolved through that CREATE's message id.

Malformed. Broken framing once in sync raises `Malformed` (the stream is hopeless). A single message
whose contents lie (a short header, a NextCommand that is not 8-aligned or points outside the
message, an offset beyond the PDU) is reported as an `SmbWeird` event and parsing goes on.

Function groups follow the protocol notes: session management (negotiate, authenticate, connect and
disconnect trees, log off), file and printer access (everything done on files, directories,
printers), and messaging (named pipes on IPC$, transactions, mailslots, echo).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from analyzer.errors import Malformed
from analyzer.flows import Flow

if TYPE_CHECKING:
    from analyzer.decode import Packet

# -- limits -------------------------------------------------------------------------------------------

NBSS_HEADER_LEN = 4
"""NetBIOS session service header: type byte + 3 length bytes."""
MAX_MESSAGE_LENGTH = 8 * 1024 * 1024 + 64 * 1024
"""Longest message accepted. SMB 3.x servers negotiate reads/writes of at most 8 MiB (Windows and
Samba defaults); a header and such a payload stay below 8 MiB + 64 KiB. A longer claim is garbage."""
MAX_KEPT = 64 * 1024
"""Bytes kept of one SMB1 message or one SMB2 PDU for parsing: headers, names, security blobs and
create contexts fit easily; READ/WRITE data beyond is counted, never stored."""
MAX_HUNT_BYTES = 1024 * 1024
"""Bytes scanned for a message start before a never-synchronised direction is declared not SMB."""
HUNT_TAIL = 8
"""Bytes kept between chunks while hunting (a message start pattern is 8 bytes long)."""
MAX_PENDING = 1024
"""Requests awaiting their response per connection (SMB2 clients keep up to a few hundred credits in
flight); beyond it the oldest is forgotten."""
MAX_TREES = 256
"""Tree connects remembered per connection."""
MAX_OPEN_FILES = 4096
"""Open files remembered per connection; beyond it the oldest is reported as if closed."""
MAX_CREATE_IDS = 64
"""CREATE message ids remembered for resolving related compound operations."""
MAX_ANDX_CHAIN = 16
"""Commands followed in one SMB1 AndX chain (real chains have 2-3); a longer or looping chain stops."""
MAX_DIALECTS = 64
"""Dialects read from one NEGOTIATE request (clients offer at most ~12)."""
MAX_NAME_CHARS = 1024
"""Characters kept of a file name, share path or user name."""
MAX_SESSION_TREES = 32
"""Share paths listed in one connection's session record."""

# -- wire constants -----------------------------------------------------------------------------------

SMB1_MAGIC = b"\xffSMB"
SMB2_MAGIC = b"\xfeSMB"
TRANSFORM_MAGIC = b"\xfdSMB"
COMPRESSION_MAGIC = b"\xfcSMB"
SMB1_HEADER_LEN = 32
SMB2_HEADER_LEN = 64
SMB1_FLAGS_REPLY = 0x80
SMB1_FLAGS2_UNICODE = 0x8000
SMB1_FLAGS2_NT_STATUS = 0x4000
SMB2_FLAGS_RESPONSE = 0x00000001
SMB2_FLAGS_ASYNC = 0x00000002
SMB2_FLAGS_RELATED = 0x00000004
SMB2_FLAGS_SIGNED = 0x00000008
RELATED_FILE_ID = b"\xff" * 16
"""File id of a related compound operation: "the file of the previous operation"."""
STATUS_SUCCESS = 0x00000000
STATUS_PENDING = 0x00000103
NTLMSSP_SIGNATURE = b"NTLMSSP\x00"
NTLMSSP_AUTHENTICATE = 3
NTLMSSP_NEGOTIATE_UNICODE = 0x00000001
KERBEROS_OID = b"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02"
"""DER of 1.2.840.113554.1.2.2 (Kerberos 5), as found inside SPNEGO blobs."""
MS_KERBEROS_OID = b"\x2a\x86\x48\x82\xf7\x12\x01\x02\x02"
"""DER of 1.2.840.48018.1.2.2 (Microsoft's Kerberos OID)."""

NBSS_TYPES = {
    0x00: "session message",
    0x81: "session request",
    0x82: "positive session response",
    0x83: "negative session response",
    0x84: "retarget session response",
    0x85: "session keep-alive",
}
"""NetBIOS session service packet types (RFC 1002 section 4.3.1)."""

SMB2_COMMANDS = {
    0x0000: "NEGOTIATE",
    0x0001: "SESSION_SETUP",
    0x0002: "LOGOFF",
    0x0003: "TREE_CONNECT",
    0x0004: "TREE_DISCONNECT",
    0x0005: "CREATE",
    0x0006: "CLOSE",
    0x0007: "FLUSH",
    0x0008: "READ",
    0x0009: "WRITE",
    0x000A: "LOCK",
    0x000B: "IOCTL",
    0x000C: "CANCEL",
    0x000D: "ECHO",
    0x000E: "QUERY_DIRECTORY",
    0x000F: "CHANGE_NOTIFY",
    0x0010: "QUERY_INFO",
    0x0011: "SET_INFO",
    0x0012: "OPLOCK_BREAK",
}
"""SMB2 command codes (MS-SMB2 2.2.1)."""

SMB1_COMMANDS = {
    0x00: "CREATE_DIRECTORY",
    0x01: "DELETE_DIRECTORY",
    0x02: "OPEN",
    0x03: "CREATE",
    0x04: "CLOSE",
    0x05: "FLUSH",
    0x06: "DELETE",
    0x07: "RENAME",
    0x08: "QUERY_INFORMATION",
    0x09: "SET_INFORMATION",
    0x0A: "READ",
    0x0B: "WRITE",
    0x0C: "LOCK_BYTE_RANGE",
    0x0D: "UNLOCK_BYTE_RANGE",
    0x0E: "CREATE_TEMPORARY",
    0x0F: "CREATE_NEW",
    0x10: "CHECK_DIRECTORY",
    0x11: "PROCESS_EXIT",
    0x12: "SEEK",
    0x13: "LOCK_AND_READ",
    0x14: "WRITE_AND_UNLOCK",
    0x1A: "READ_RAW",
    0x1B: "READ_MPX",
    0x1C: "READ_MPX_SECONDARY",
    0x1D: "WRITE_RAW",
    0x1E: "WRITE_MPX",
    0x1F: "WRITE_MPX_SECONDARY",
    0x20: "WRITE_COMPLETE",
    0x21: "QUERY_SERVER",
    0x22: "SET_INFORMATION2",
    0x23: "QUERY_INFORMATION2",
    0x24: "LOCKING_ANDX",
    0x25: "TRANSACTION",
    0x26: "TRANSACTION_SECONDARY",
    0x27: "IOCTL",
    0x28: "IOCTL_SECONDARY",
    0x29: "COPY",
    0x2A: "MOVE",
    0x2B: "ECHO",
    0x2C: "WRITE_AND_CLOSE",
    0x2D: "OPEN_ANDX",
    0x2E: "READ_ANDX",
    0x2F: "WRITE_ANDX",
    0x30: "NEW_FILE_SIZE",
    0x31: "CLOSE_AND_TREE_DISC",
    0x32: "TRANSACTION2",
    0x33: "TRANSACTION2_SECONDARY",
    0x34: "FIND_CLOSE2",
    0x35: "FIND_NOTIFY_CLOSE",
    0x70: "TREE_CONNECT",
    0x71: "TREE_DISCONNECT",
    0x72: "NEGOTIATE",
    0x73: "SESSION_SETUP_ANDX",
    0x74: "LOGOFF_ANDX",
    0x75: "TREE_CONNECT_ANDX",
    0x7E: "SECURITY_PACKAGE_ANDX",
    0x80: "QUERY_INFORMATION_DISK",
    0x81: "SEARCH",
    0x82: "FIND",
    0x83: "FIND_UNIQUE",
    0x84: "FIND_CLOSE",
    0xA0: "NT_TRANSACT",
    0xA1: "NT_TRANSACT_SECONDARY",
    0xA2: "NT_CREATE_ANDX",
    0xA4: "NT_CANCEL",
    0xA5: "NT_RENAME",
    0xC0: "OPEN_PRINT_FILE",
    0xC1: "WRITE_PRINT_FILE",
    0xC2: "CLOSE_PRINT_FILE",
    0xC3: "GET_PRINT_QUEUE",
    0xD8: "READ_BULK",
    0xD9: "WRITE_BULK",
    0xDA: "WRITE_BULK_DATA",
    0xFE: "INVALID",
    0xFF: "NO_ANDX_COMMAND",
}
"""SMB1 command codes (MS-CIFS 2.2.2.1), named without the SMB_COM_ prefix."""

SMB1_ANDX_COMMANDS = frozenset({0x24, 0x2D, 0x2E, 0x2F, 0x73, 0x74, 0x75, 0xA2})
"""SMB1 commands whose parameter words start with an AndX block (next command + offset)."""
SMB1_NO_COMMAND = 0xFF
"""AndXCommand value that ends a chain."""

SMB2_DIALECTS = {
    0x0202: "SMB 2.0.2",
    0x0210: "SMB 2.1",
    0x0222: "SMB 2.2.2",
    0x0224: "SMB 2.2.4",
    0x02FF: "SMB2 wildcard (0x02FF)",
    0x0300: "SMB 3.0",
    0x0302: "SMB 3.0.2",
    0x0310: "SMB 3.1.0",
    0x0311: "SMB 3.1.1",
}
"""SMB2 dialect revisions (MS-SMB2 2.2.3), named as the shared TRUTH.json names them."""

SHARE_TYPES = {1: "DISK", 2: "PIPE", 3: "PRINT"}
"""SMB2 TREE_CONNECT response ShareType (MS-SMB2 2.2.10)."""
SMB1_SERVICES = {"A:": "DISK", "IPC": "PIPE", "LPT1:": "PRINT", "COMM": "COMM"}
"""SMB1 TREE_CONNECT_ANDX service strings (MS-CIFS 2.2.4.55) -> share type."""

SMB2_CREATE_ACTIONS = {0: "SUPERSEDED", 1: "OPENED", 2: "CREATED", 3: "OVERWRITTEN"}
"""CREATE response CreateAction (MS-SMB2 2.2.14)."""

NT_STATUS_NAMES = {
    0x00000000: "STATUS_SUCCESS",
    0x00000103: "STATUS_PENDING",
    0x0000010B: "STATUS_NOTIFY_CLEANUP",
    0x0000010C: "STATUS_NOTIFY_ENUM_DIR",
    0x80000005: "STATUS_BUFFER_OVERFLOW",
    0x80000006: "STATUS_NO_MORE_FILES",
    0x8000002D: "STATUS_STOPPED_ON_SYMLINK",
    0xC0000001: "STATUS_UNSUCCESSFUL",
    0xC0000002: "STATUS_NOT_IMPLEMENTED",
    0xC0000003: "STATUS_INVALID_INFO_CLASS",
    0xC0000004: "STATUS_INFO_LENGTH_MISMATCH",
    0xC0000008: "STATUS_INVALID_HANDLE",
    0xC000000D: "STATUS_INVALID_PARAMETER",
    0xC000000F: "STATUS_NO_SUCH_FILE",
    0xC0000010: "STATUS_INVALID_DEVICE_REQUEST",
    0xC0000011: "STATUS_END_OF_FILE",
    0xC0000016: "STATUS_MORE_PROCESSING_REQUIRED",
    0xC0000022: "STATUS_ACCESS_DENIED",
    0xC0000023: "STATUS_BUFFER_TOO_SMALL",
    0xC0000033: "STATUS_OBJECT_NAME_INVALID",
    0xC0000034: "STATUS_OBJECT_NAME_NOT_FOUND",
    0xC0000035: "STATUS_OBJECT_NAME_COLLISION",
    0xC000003A: "STATUS_OBJECT_PATH_NOT_FOUND",
    0xC0000043: "STATUS_SHARING_VIOLATION",
    0xC0000054: "STATUS_FILE_LOCK_CONFLICT",
    0xC0000055: "STATUS_LOCK_NOT_GRANTED",
    0xC0000061: "STATUS_PRIVILEGE_NOT_HELD",
    0xC0000064: "STATUS_NO_SUCH_USER",
    0xC000006A: "STATUS_WRONG_PASSWORD",
    0xC000006D: "STATUS_LOGON_FAILURE",
    0xC000006E: "STATUS_ACCOUNT_RESTRICTION",
    0xC000006F: "STATUS_INVALID_LOGON_HOURS",
    0xC0000070: "STATUS_INVALID_WORKSTATION",
    0xC0000071: "STATUS_PASSWORD_EXPIRED",
    0xC0000072: "STATUS_ACCOUNT_DISABLED",
    0xC000009A: "STATUS_INSUFFICIENT_RESOURCES",
    0xC00000AC: "STATUS_PIPE_NOT_AVAILABLE",
    0xC00000AD: "STATUS_INVALID_PIPE_STATE",
    0xC00000AE: "STATUS_PIPE_BUSY",
    0xC00000B0: "STATUS_PIPE_DISCONNECTED",
    0xC00000B1: "STATUS_PIPE_CLOSING",
    0xC00000B5: "STATUS_IO_TIMEOUT",
    0xC00000BA: "STATUS_FILE_IS_A_DIRECTORY",
    0xC00000BB: "STATUS_NOT_SUPPORTED",
    0xC00000C9: "STATUS_NETWORK_NAME_DELETED",
    0xC00000CC: "STATUS_BAD_NETWORK_NAME",
    0xC0000101: "STATUS_DIRECTORY_NOT_EMPTY",
    0xC0000103: "STATUS_NOT_A_DIRECTORY",
    0xC0000120: "STATUS_CANCELLED",
    0xC0000128: "STATUS_FILE_CLOSED",
    0xC000015B: "STATUS_LOGON_TYPE_NOT_GRANTED",
    0xC0000184: "STATUS_INVALID_DEVICE_STATE",
    0xC0000193: "STATUS_ACCOUNT_EXPIRED",
    0xC0000203: "STATUS_USER_SESSION_DELETED",
    0xC0000205: "STATUS_INSUFF_SERVER_RESOURCES",
    0xC000020C: "STATUS_CONNECTION_DISCONNECTED",
    0xC0000224: "STATUS_PASSWORD_MUST_CHANGE",
    0xC0000225: "STATUS_NOT_FOUND",
    0xC0000234: "STATUS_ACCOUNT_LOCKED_OUT",
    0xC000035C: "STATUS_NETWORK_SESSION_EXPIRED",
    0xC000A100: "STATUS_HASH_NOT_SUPPORTED",
}
"""Common NTSTATUS values (MS-ERREF 2.3.1); others are shown as hex."""

SESSION, FILE, MESSAGING = "session", "file", "messaging"
"""The three kinds of function SMB serves (protocol notes): start/authenticate/end sessions, file
and printer access, messages between applications (named pipes, mailslots, transactions, echo)."""
FUNCTIONS = (SESSION, FILE, MESSAGING)

SMB2_FUNCTIONS = {
    "NEGOTIATE": SESSION,
    "SESSION_SETUP": SESSION,
    "LOGOFF": SESSION,
    "TREE_CONNECT": SESSION,
    "TREE_DISCONNECT": SESSION,
    "ECHO": MESSAGING,
}
"""SMB2 command -> function group; every other command is file access, or messaging on a pipe."""
SMB1_FUNCTIONS = {
    "NEGOTIATE": SESSION,
    "SESSION_SETUP_ANDX": SESSION,
    "LOGOFF_ANDX": SESSION,
    "TREE_CONNECT": SESSION,
    "TREE_CONNECT_ANDX": SESSION,
    "TREE_DISCONNECT": SESSION,
    "PROCESS_EXIT": SESSION,
    "SECURITY_PACKAGE_ANDX": SESSION,
    "ECHO": MESSAGING,
    "TRANSACTION": MESSAGING,
    "TRANSACTION_SECONDARY": MESSAGING,
}
"""SMB1 command -> function group; every other command is file access, or messaging on a pipe."""
PIPE_FSCTLS = frozenset({0x0011C017, 0x00110018, 0x0011400C})
"""FSCTL_PIPE_TRANSCEIVE, FSCTL_PIPE_WAIT, FSCTL_PIPE_PEEK: an IOCTL naming one is pipe messaging."""


def status_name(status: int) -> str:
    """NTSTATUS name, or its hex value."""
    return NT_STATUS_NAMES.get(status) or f"0x{status:08X}"


def smb2_dialect_name(dialect: int) -> str:
    return SMB2_DIALECTS.get(dialect) or f"0x{dialect:04X}"


def smb1_command_name(cmd: int) -> str:
    return SMB1_COMMANDS.get(cmd) or f"0x{cmd:02X}"


def smb2_command_name(cmd: int) -> str:
    return SMB2_COMMANDS.get(cmd) or f"0x{cmd:04X}"


# -- events -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SmbCommand:
    """One SMB1 message or one SMB2 PDU (each header of a compound)."""

    ts: float
    """Time of the segment that completed it."""
    uid: str
    """Connection uid."""
    version: int
    """1 (0xFF 'SMB') or 2 (0xFE 'SMB', SMB 2.x and 3.x)."""
    command: str
    """Command name (SMB1: of the header; AndX-chained ones are in `chained`)."""
    is_response: bool
    """Sent by the server."""
    status: str | None
    """Status of a response (NTSTATUS name, hex, or SMB1 DOS class/code); None for requests."""
    function: str
    """session, file or messaging."""
    chained: tuple[str, ...]
    """SMB1 AndX commands chained after the first one."""
    transport: str
    """tcp/445, tcp/139 or udp/138 (lower port of the flow)."""


@dataclass(frozen=True, slots=True)
class SmbDialects:
    """A NEGOTIATE: dialects offered (request) or chosen (response)."""

    ts: float
    """Time of the message."""
    uid: str
    """Connection uid."""
    version: int
    """SMB version of the message carrying them (an SMB1 NEGOTIATE may get an SMB2 answer)."""
    offered: tuple[str, ...]
    """Dialects in a request, in order."""
    chosen: str | None
    """Dialect of a response (None for requests, or an answer choosing none)."""


@dataclass(frozen=True, slots=True)
class SmbTransform:
    """An SMB3 transform message: encrypted (0xFD) or compressed (0xFC); its content is not seen."""

    ts: float
    """Time of the message."""
    uid: str
    """Connection uid."""
    kind: str
    """encrypted or compressed."""
    is_response: bool
    """Sent by the server."""
    size: int
    """Message length."""


@dataclass(frozen=True, slots=True)
class SmbWeird:
    """One message whose contents break the protocol; parsing went on."""

    LOG_PATH: ClassVar[str] = "weird"
    """Log (`_path`) of this event in `events`."""
    LOG_RENAMES: ClassVar[tuple[tuple[str, str], ...]] = (("reason", "name"), ("detail", "addl"))
    """Fields renamed to the names weird.log uses."""

    ts: float
    """Time of the message."""
    uid: str
    """Connection uid."""
    reason: str
    """Short stable key, e.g. smb2.bad_next_command."""
    detail: str
    """Free-form detail."""


@dataclass(frozen=True, slots=True)
class SmbTreeRecord:
    """A tree connect (Zeek's smb_mapping.log)."""

    ts: float
    """Time of the request."""
    uid: str
    """Connection uid."""
    orig_h: str
    """Client address."""
    orig_p: int
    """Client port."""
    resp_h: str
    """Server address."""
    resp_p: int
    """Server port."""
    path: str | None
    """Share path, e.g. \\\\server\\IPC$."""
    share_type: str | None
    """DISK, PIPE, PRINT or COMM (from the response)."""
    service: str | None
    """SMB1 service string of the response (A:, IPC, ...)."""
    status: str | None
    """Response status (None if unanswered)."""


@dataclass(frozen=True, slots=True)
class SmbFileRecord:
    """A file opened (or an open that failed), summed up at its close (Zeek's smb_files.log)."""

    ts: float
    """Time of the open request."""
    uid: str
    """Connection uid."""
    orig_h: str
    """Client address."""
    orig_p: int
    """Client port."""
    resp_h: str
    """Server address."""
    resp_p: int
    """Server port."""
    version: int
    """1 or 2."""
    name: str | None
    """File name as sent in the open."""
    path: str | None
    """Share path of its tree, when known."""
    action: str | None
    """SMB2 create action (OPENED, CREATED, ...) or SMB1 equivalent."""
    size: int | None
    """End of file reported by the open response."""
    status: str | None
    """Open response status."""
    bytes_read: int
    """Bytes returned by READ responses on it."""
    bytes_written: int
    """Bytes acknowledged by WRITE responses on it."""
    closed: bool
    """A CLOSE response was seen (False: still open at the end of the connection or capture)."""


@dataclass(frozen=True, slots=True)
class SmbSessionRecord:
    """An SMB connection summed up when it ends."""

    ts: float
    """Time of its first message."""
    uid: str
    """Connection uid."""
    orig_h: str
    """Client address."""
    orig_p: int
    """Client port."""
    resp_h: str
    """Server address."""
    resp_p: int
    """Server port."""
    versions: tuple[str, ...]
    """SMB1 and/or SMB2 seen."""
    dialect: str | None
    """Last dialect chosen by the server (not the SMB2 wildcard when a real one followed)."""
    auth: str | None
    """Authentication seen: ntlmssp, kerberos, plain (SMB1 clear names) or None."""
    user: str | None
    """NTLMSSP (or SMB1) user name of the last authentication."""
    domain: str | None
    """Its domain."""
    host: str | None
    """Its workstation name."""
    auth_status: str | None
    """Status of the session setup response that answered it."""
    called_name: str | None
    """NetBIOS name called in a session request (port 139)."""
    calling_name: str | None
    """NetBIOS name of the caller (port 139)."""
    trees: tuple[str, ...]
    """Share paths connected (at most MAX_SESSION_TREES)."""
    files_opened: int
    """Successful opens."""
    bytes_read: int
    """Bytes returned by READ responses."""
    bytes_written: int
    """Bytes acknowledged by WRITE responses."""
    requests: int
    """Requests seen (SMB1 messages and SMB2 PDUs)."""
    encrypted: int
    """Transform (encrypted) messages."""
    signed: bool
    """An SMB2 PDU carried the signed flag."""


# -- byte helpers -------------------------------------------------------------------------------------


class _Short(Exception):
    """A field lies beyond the bytes at hand (internal: becomes an SmbWeird)."""


def _u8(b: bytes, o: int) -> int:
    if o + 1 > len(b):
        raise _Short(o)
    return b[o]


def _u16(b: bytes, o: int) -> int:
    if o + 2 > len(b):
        raise _Short(o)
    return b[o] | b[o + 1] << 8


def _u32(b: bytes, o: int) -> int:
    if o + 4 > len(b):
        raise _Short(o)
    return int.from_bytes(b[o : o + 4], "little")


def _u64(b: bytes, o: int) -> int:
    if o + 8 > len(b):
        raise _Short(o)
    return int.from_bytes(b[o : o + 8], "little")


def _take(b: bytes, o: int, n: int) -> bytes:
    if o < 0 or n < 0 or o + n > len(b):
        raise _Short(o)
    return b[o : o + n]


def _utf16(raw: bytes) -> str:
    return raw[: MAX_NAME_CHARS * 2].decode("utf-16-le", "replace")[:MAX_NAME_CHARS]


def _oem(raw: bytes) -> str:
    return raw[:MAX_NAME_CHARS].decode("latin-1")


def _cstring(b: bytes, o: int, unicode: bool) -> tuple[str, int]:
    """A NUL-terminated string at `o` (UTF-16LE or 8-bit) and the offset after it; a missing NUL ends it
    at the end of the bytes."""
    if unicode:
        end = o
        while end + 1 < len(b) and (b[end] or b[end + 1]):
            end += 2
        return _utf16(b[o:end]), end + 2
    end = b.find(b"\x00", o)
    if end < 0:
        end = len(b)
    return _oem(b[o:end]), end + 1


def _netbios_name(raw: bytes) -> str | None:
    """Decode a first-level encoded NetBIOS name (RFC 1001 14.1): 32 letters 'A'..'P' -> 16 bytes."""
    if len(raw) != 32 or any(not 0x41 <= c <= 0x50 for c in raw):
        return None
    name = bytes(((raw[i] - 0x41) << 4) | (raw[i + 1] - 0x41) for i in range(0, 32, 2))
    return name[:15].rstrip(b" \x00").decode("latin-1")


def _nb_names(b: bytes, count: int) -> list[str | None]:
    """Read `count` encoded names (length 32 label + scope labels + 0) from the start of `b`."""
    names: list[str | None] = []
    pos = 0
    for _ in range(count):
        if pos >= len(b):
            break
        first = b[pos]
        names.append(_netbios_name(b[pos + 1 : pos + 1 + first]) if first == 32 else None)
        labels = 0
        while pos < len(b) and b[pos] and labels < 64:  # the name label, then any scope labels
            pos += 1 + b[pos]
            labels += 1
        pos += 1
    return names


@dataclass(frozen=True, slots=True)
class NtlmAuth:
    """What an NTLMSSP message tells (AUTHENTICATE: who)."""

    message_type: int
    """1 NEGOTIATE, 2 CHALLENGE, 3 AUTHENTICATE."""
    user: str | None
    """User name (AUTHENTICATE only)."""
    domain: str | None
    """Domain name (AUTHENTICATE only)."""
    host: str | None
    """Workstation name (AUTHENTICATE only)."""


def parse_ntlmssp(blob: bytes) -> NtlmAuth | None:
    """Find the NTLMSSP signature inside a security blob (raw or SPNEGO-wrapped) and read it."""
    start = blob.find(NTLMSSP_SIGNATURE)
    if start < 0:
        return None
    m = blob[start:]
    if len(m) < 12:
        return None
    mtype = _u32(m, 8)
    if mtype != NTLMSSP_AUTHENTICATE or len(m) < 52:
        return NtlmAuth(mtype, None, None, None)
    flags = _u32(m, 60) if len(m) >= 64 else NTLMSSP_NEGOTIATE_UNICODE
    unicode = bool(flags & NTLMSSP_NEGOTIATE_UNICODE)

    def field(at: int) -> str | None:
        length, offset = _u16(m, at), _u32(m, at + 4)
        if offset + length > len(m):
            return None
        raw = m[offset : offset + length]
        return _utf16(raw) if unicode else _oem(raw)

    return NtlmAuth(mtype, field(36), field(28), field(44))


def _auth_mechanism(blob: bytes) -> str | None:
    if NTLMSSP_SIGNATURE in blob:
        return "ntlmssp"
    if KERBEROS_OID in blob or MS_KERBEROS_OID in blob:
        return "kerberos"
    return None


# -- per-connection SMB state -------------------------------------------------------------------------


@dataclass(slots=True)
class _Request:
    """A request waiting for its response."""

    ts: float
    command: str
    tree_id: int | None = None
    name: str | None = None
    file_ref: bytes | int | None = None
    """The file it works on: a file id, or the message id of the CREATE it is related to."""
    ntlm: NtlmAuth | None = None


@dataclass(slots=True)
class _Tree:
    path: str | None
    share_type: str | None


@dataclass(slots=True)
class _File:
    ts: float
    version: int
    name: str | None
    path: str | None
    action: str | None
    size: int | None
    status: str | None
    bytes_read: int = 0
    bytes_written: int = 0


@dataclass(slots=True)
class _Session:
    """Facts for the connection's SmbSessionRecord."""

    first_ts: float | None = None
    versions: set[str] = field(default_factory=set)
    dialect: str | None = None
    auth: str | None = None
    user: str | None = None
    domain: str | None = None
    host: str | None = None
    auth_status: str | None = None
    called_name: str | None = None
    calling_name: str | None = None
    trees: list[str] = field(default_factory=list)
    files_opened: int = 0
    bytes_read: int = 0
    bytes_written: int = 0
    requests: int = 0
    encrypted: int = 0
    signed: bool = False


class SmbParser:
    """Parses whole SMB messages and PDUs for one connection (or one datagram) and keeps the state that
    pairs requests with responses. Used by SmbDissector (TCP) and by `parse_datagram` (UDP 138)."""

    def __init__(self, uid: str, endpoints: tuple[str, int, str, int], transport: str) -> None:
        self.uid = uid
        self.endpoints = endpoints
        self.transport = transport
        self.pending: dict[tuple[int, int], _Request] = {}
        self.trees: dict[tuple[int, int], _Tree] = {}
        self.files: dict[bytes, _File] = {}
        self.create_fids: dict[int, bytes] = {}
        self.smb1_offered: tuple[str, ...] = ()
        self.session = _Session()
        self.last_create: int | None = None
        """Message id of the last SMB2 CREATE request (related compound operations refer to it)."""

    # -- shared bookkeeping --

    def _weird(self, ts: float, reason: str, detail: str, events: list[object]) -> None:
        events.append(SmbWeird(ts, self.uid, reason, detail))

    def _remember(self, key: tuple[int, int], req: _Request) -> None:
        if key not in self.pending and len(self.pending) >= MAX_PENDING:
            del self.pending[next(iter(self.pending))]
        self.pending[key] = req

    def _tree(self, version: int, tree_id: int | None) -> _Tree | None:
        return None if tree_id is None else self.trees.get((version, tree_id))

    def _set_tree(self, version: int, tree_id: int, tree: _Tree) -> None:
        key = (version, tree_id)
        if key not in self.trees and len(self.trees) >= MAX_TREES:
            del self.trees[next(iter(self.trees))]
        self.trees[key] = tree

    def _function(self, base: str, version: int, tree_id: int | None) -> str:
        if base == FILE:
            tree = self._tree(version, tree_id)
            if tree is not None and tree.share_type == "PIPE":
                return MESSAGING
        return base

    def _mark_pipe(self, version: int, tree_id: int | None) -> None:
        if tree_id is not None and self._tree(version, tree_id) is None:
            self._set_tree(version, tree_id, _Tree(None, "PIPE"))

    def _open(self, fid: bytes, f: _File, ts: float, events: list[object]) -> None:
        self.session.files_opened += 1
        if fid in self.files:
            self._file_record(self.files.pop(fid), ts, False, events)
        elif len(self.files) >= MAX_OPEN_FILES:
            old = next(iter(self.files))
            self._file_record(self.files.pop(old), ts, False, events)
        self.files[fid] = f

    def _file_record(self, f: _File, ts: float, closed: bool, events: list[object]) -> None:
        orig_h, orig_p, resp_h, resp_p = self.endpoints
        events.append(
            SmbFileRecord(
                ts=f.ts,
                uid=self.uid,
                orig_h=orig_h,
                orig_p=orig_p,
                resp_h=resp_h,
                resp_p=resp_p,
                version=f.version,
                name=f.name,
                path=f.path,
                action=f.action,
                size=f.size,
                status=f.status,
                bytes_read=f.bytes_read,
                bytes_written=f.bytes_written,
                closed=closed,
            )
        )

    def _tree_record(
        self, req: _Request, tree: _Tree, service: str | None, status: str | None
    ) -> SmbTreeRecord:
        orig_h, orig_p, resp_h, resp_p = self.endpoints
        if tree.path and len(self.session.trees) < MAX_SESSION_TREES and tree.path not in self.session.trees:
            self.session.trees.append(tree.path)
        return SmbTreeRecord(
            req.ts, self.uid, orig_h, orig_p, resp_h, resp_p, tree.path, tree.share_type, service, status
        )

    def _resolve(self, ref: bytes | int | None) -> bytes | None:
        if isinstance(ref, int):
            return self.create_fids.get(ref)
        return ref

    def _moved(self, ref: bytes | int | None, read: int, written: int) -> None:
        self.session.bytes_read += read
        self.session.bytes_written += written
        fid = self._resolve(ref)
        f = self.files.get(fid) if fid is not None else None
        if f is not None:
            f.bytes_read += read
            f.bytes_written += written

    def _authenticated(self, ntlm: NtlmAuth | None, status: int, is_ok: bool) -> None:
        authenticate = ntlm is not None and ntlm.message_type == NTLMSSP_AUTHENTICATE
        if authenticate or (is_ok and self.session.auth_status is None and self.session.auth is not None):
            self.session.auth_status = status_name(status)

    def _saw_blob(self, blob: bytes) -> NtlmAuth | None:
        mech = _auth_mechanism(blob)
        if mech is not None:
            self.session.auth = mech
        ntlm = parse_ntlmssp(blob)
        if ntlm is not None and ntlm.message_type == NTLMSSP_AUTHENTICATE:
            self.session.user, self.session.domain, self.session.host = ntlm.user, ntlm.domain, ntlm.host
        return ntlm

    def close_files(self, ts: float) -> list[object]:
        events: list[object] = []
        for f in self.files.values():
            self._file_record(f, ts, False, events)
        self.files.clear()
        return events

    def session_record(self, ts: float) -> SmbSessionRecord | None:
        s = self.session
        if s.first_ts is None:
            return None
        orig_h, orig_p, resp_h, resp_p = self.endpoints
        return SmbSessionRecord(
            ts=s.first_ts,
            uid=self.uid,
            orig_h=orig_h,
            orig_p=orig_p,
            resp_h=resp_h,
            resp_p=resp_p,
            versions=tuple(sorted(s.versions)),
            dialect=s.dialect,
            auth=s.auth,
            user=s.user,
            domain=s.domain,
            host=s.host,
            auth_status=s.auth_status,
            called_name=s.called_name,
            calling_name=s.calling_name,
            trees=tuple(s.trees),
            files_opened=s.files_opened,
            bytes_read=s.bytes_read,
            bytes_written=s.bytes_written,
            requests=s.requests,
            encrypted=s.encrypted,
            signed=s.signed,
        )

    # -- entry points for whole units --

    def transform(self, kind: str, is_response: bool, size: int, ts: float, events: list[object]) -> None:
        if self.session.first_ts is None:
            self.session.first_ts = ts
        if kind == "encrypted":
            self.session.encrypted += 1
        events.append(SmbTransform(ts, self.uid, kind, is_response, size))

    def nbss_session_request(self, body: bytes) -> None:
        names = _nb_names(body, 2)
        if names:
            self.session.called_name = names[0]
        if len(names) > 1:
            self.session.calling_name = names[1]

    def smb2(self, pdu: bytes, ts: float, events: list[object]) -> None:
        """One SMB2 PDU (header + body, possibly cut to MAX_KEPT or by a gap)."""
        if len(pdu) < SMB2_HEADER_LEN:
            self._weird(ts, "smb2.short_header", f"{len(pdu)} bytes", events)
            return
        if self.session.first_ts is None:
            self.session.first_ts = ts
        self.session.versions.add("SMB2")
        status = _u32(pdu, 8)
        command = _u16(pdu, 12)
        flags = _u32(pdu, 16)
        msg_id = _u64(pdu, 24)
        tree_id = None if flags & SMB2_FLAGS_ASYNC else _u32(pdu, 36)
        is_response = bool(flags & SMB2_FLAGS_RESPONSE)
        if flags & SMB2_FLAGS_SIGNED:
            self.session.signed = True
        name = smb2_command_name(command)
        req = None
        if is_response:
            req = self.pending.get((2, msg_id))
            if req is not None and tree_id is None:
                tree_id = req.tree_id
            if req is not None and not (status == STATUS_PENDING and flags & SMB2_FLAGS_ASYNC):
                del self.pending[(2, msg_id)]
        else:
            self.session.requests += 1
        handler = _SMB2_HANDLERS.get((name, is_response))
        if handler is not None:
            try:
                handler(self, _Pdu(pdu, status, msg_id, tree_id, req, ts), events)
            except _Short as exc:
                self._weird(ts, f"smb2.{name.lower()}_short", f"field at offset {exc.args[0]}", events)
        function = self._function(SMB2_FUNCTIONS.get(name, FILE), 2, tree_id)
        events.append(
            SmbCommand(
                ts=ts,
                uid=self.uid,
                version=2,
                command=name,
                is_response=is_response,
                status=status_name(status) if is_response else None,
                function=function,
                chained=(),
                transport=self.transport,
            )
        )

    def smb1(self, msg: bytes, ts: float, events: list[object]) -> None:
        """One SMB1 message (possibly cut to MAX_KEPT)."""
        if len(msg) < SMB1_HEADER_LEN + 1:
            self._weird(ts, "smb1.short_header", f"{len(msg)} bytes", events)
            return
        if self.session.first_ts is None:
            self.session.first_ts = ts
        self.session.versions.add("SMB1")
        cmd = msg[4]
        flags = msg[9]
        flags2 = _u16(msg, 10)
        is_response = bool(flags & SMB1_FLAGS_REPLY)
        if flags2 & SMB1_FLAGS2_NT_STATUS:
            status_text = status_name(_u32(msg, 5))
            ok = _u32(msg, 5) == STATUS_SUCCESS
        else:
            err_class, err_code = msg[5], _u16(msg, 7)
            ok = err_class == 0
            status_text = "STATUS_SUCCESS" if ok else f"DOS 0x{err_class:02X}/0x{err_code:04X}"
        tid, mid = _u16(msg, 24), _u16(msg, 30)
        unicode = bool(flags2 & SMB1_FLAGS2_UNICODE)
        name = smb1_command_name(cmd)
        key = (1, mid)
        req = None
        if is_response:
            req = self.pending.pop(key, None)
        else:
            self.session.requests += 1
        chain: list[str] = []
        ctx = _Smb1Context(msg, unicode, tid, ok, _u32(msg, 5), status_text, req, ts)
        offset, command, steps = SMB1_HEADER_LEN, cmd, 0
        while True:
            block = _smb1_block(msg, offset)
            if block is None:
                self._weird(ts, "smb1.bad_block", f"{smb1_command_name(command)} at offset {offset}", events)
                break
            words, ctx.data, ctx.data_at = block
            ctx.words, ctx.command = words, command
            handler = _SMB1_HANDLERS.get((command, is_response))
            if handler is not None:
                try:
                    handler(self, ctx, events)
                except _Short as exc:
                    self._weird(
                        ts, "smb1.short_field", f"{smb1_command_name(command)} at {exc.args[0]}", events
                    )
            if command not in SMB1_ANDX_COMMANDS or len(words) < 4:
                break
            nxt, nxt_off = words[0], _u16(words, 2)
            if nxt == SMB1_NO_COMMAND:
                break
            steps += 1
            if steps >= MAX_ANDX_CHAIN or nxt_off <= offset or nxt_off >= len(msg):
                if not (is_response and nxt_off == 0):  # some servers leave the offset 0 in errors
                    self._weird(ts, "smb1.bad_andx", f"offset {nxt_off} after {offset}", events)
                break
            chain.append(smb1_command_name(nxt))
            offset, command = nxt_off, nxt
        if not is_response:
            self._remember(key, ctx.new_request or _Request(ts, name, tid))
        function = self._function(SMB1_FUNCTIONS.get(name, FILE), 1, tid)
        events.append(
            SmbCommand(
                ts=ts,
                uid=self.uid,
                version=1,
                command=name,
                is_response=is_response,
                status=status_text if is_response else None,
                function=function,
                chained=tuple(chain),
                transport=self.transport,
            )
        )

    # -- SMB2 commands --

    def _s2_negotiate_req(self, p: _Pdu, ev: list[object]) -> None:
        count = min(_u16(p.pdu, 66), MAX_DIALECTS)
        offered = tuple(smb2_dialect_name(_u16(p.pdu, 100 + 2 * i)) for i in range(count))
        ev.append(SmbDialects(p.ts, self.uid, 2, offered, None))

    def _s2_negotiate_resp(self, p: _Pdu, ev: list[object]) -> None:
        if _u16(p.pdu, 64) != 65:  # an error response carries a 9-byte body, no dialect
            return
        chosen = smb2_dialect_name(_u16(p.pdu, 68))
        if self.session.dialect is None or _u16(p.pdu, 68) != 0x02FF:
            self.session.dialect = chosen
        ev.append(SmbDialects(p.ts, self.uid, 2, (), chosen))

    def _s2_session_setup_req(self, p: _Pdu, ev: list[object]) -> None:
        off, length = _u16(p.pdu, 76), _u16(p.pdu, 78)
        ntlm = self._saw_blob(_take(p.pdu, off, length)) if length else None
        self._remember((2, p.msg_id), _Request(p.ts, "SESSION_SETUP", p.tree_id, ntlm=ntlm))

    def _s2_session_setup_resp(self, p: _Pdu, ev: list[object]) -> None:
        self._authenticated(p.req.ntlm if p.req else None, p.status, p.status == STATUS_SUCCESS)

    def _s2_tree_connect_req(self, p: _Pdu, ev: list[object]) -> None:
        off, length = _u16(p.pdu, 68), _u16(p.pdu, 70)
        path = _utf16(_take(p.pdu, off, length)) if length else None
        self._remember((2, p.msg_id), _Request(p.ts, "TREE_CONNECT", p.tree_id, name=path))

    def _s2_tree_connect_resp(self, p: _Pdu, ev: list[object]) -> None:
        if p.req is None:
            return
        share = (
            SHARE_TYPES.get(_u8(p.pdu, 66)) if p.status == STATUS_SUCCESS and _u16(p.pdu, 64) == 16 else None
        )
        tree = _Tree(p.req.name, share)
        if p.status == STATUS_SUCCESS and p.tree_id is not None:
            self._set_tree(2, p.tree_id, tree)
        ev.append(self._tree_record(p.req, tree, None, status_name(p.status)))

    def _s2_tree_disconnect_resp(self, p: _Pdu, ev: list[object]) -> None:
        if p.status == STATUS_SUCCESS and p.tree_id is not None:
            self.trees.pop((2, p.tree_id), None)

    def _s2_create_req(self, p: _Pdu, ev: list[object]) -> None:
        off, length = _u16(p.pdu, 108), _u16(p.pdu, 110)
        name = _utf16(_take(p.pdu, off, length)) if length else ""
        self.last_create = p.msg_id
        self._remember((2, p.msg_id), _Request(p.ts, "CREATE", p.tree_id, name=name))

    def _s2_create_resp(self, p: _Pdu, ev: list[object]) -> None:
        if p.req is None:
            return
        tree = self._tree(2, p.req.tree_id)
        path = tree.path if tree else None
        if p.status != STATUS_SUCCESS or _u16(p.pdu, 64) != 89:
            f = _File(p.req.ts, 2, p.req.name, path, None, None, status_name(p.status))
            self._file_record(f, p.ts, False, ev)
            return
        action = SMB2_CREATE_ACTIONS.get(_u32(p.pdu, 68))
        size = _u64(p.pdu, 112)
        fid = _take(p.pdu, 128, 16)
        if len(self.create_fids) >= MAX_CREATE_IDS:
            del self.create_fids[next(iter(self.create_fids))]
        self.create_fids[p.msg_id] = fid
        self._open(fid, _File(p.req.ts, 2, p.req.name, path, action, size, status_name(p.status)), p.ts, ev)

    def _file_ref(self, pdu: bytes, at: int) -> bytes | int | None:
        fid = _take(pdu, at, 16)
        if fid == RELATED_FILE_ID:
            return self.last_create
        return fid

    def _s2_read_req(self, p: _Pdu, ev: list[object]) -> None:
        self._remember((2, p.msg_id), _Request(p.ts, "READ", p.tree_id, file_ref=self._file_ref(p.pdu, 80)))

    def _s2_read_resp(self, p: _Pdu, ev: list[object]) -> None:
        if p.status == STATUS_SUCCESS and _u16(p.pdu, 64) == 17:
            self._moved(p.req.file_ref if p.req else None, _u32(p.pdu, 68), 0)

    def _s2_write_req(self, p: _Pdu, ev: list[object]) -> None:
        self._remember((2, p.msg_id), _Request(p.ts, "WRITE", p.tree_id, file_ref=self._file_ref(p.pdu, 80)))

    def _s2_write_resp(self, p: _Pdu, ev: list[object]) -> None:
        if p.status == STATUS_SUCCESS and _u16(p.pdu, 64) == 17:
            self._moved(p.req.file_ref if p.req else None, 0, _u32(p.pdu, 68))

    def _s2_close_req(self, p: _Pdu, ev: list[object]) -> None:
        self._remember((2, p.msg_id), _Request(p.ts, "CLOSE", p.tree_id, file_ref=self._file_ref(p.pdu, 72)))

    def _s2_close_resp(self, p: _Pdu, ev: list[object]) -> None:
        fid = self._resolve(p.req.file_ref) if p.req else None
        if p.status == STATUS_SUCCESS and fid is not None and fid in self.files:
            self._file_record(self.files.pop(fid), p.ts, True, ev)

    def _s2_ioctl_req(self, p: _Pdu, ev: list[object]) -> None:
        if _u32(p.pdu, 68) in PIPE_FSCTLS:
            self._mark_pipe(2, p.tree_id)
        self._remember((2, p.msg_id), _Request(p.ts, "IOCTL", p.tree_id))

    # -- SMB1 commands --

    def _s1_negotiate_req(self, c: _Smb1Context, ev: list[object]) -> None:
        offered: list[str] = []
        pos = 0
        while pos < len(c.data) and len(offered) < MAX_DIALECTS:
            if c.data[pos] != 0x02:  # BufferFormat "dialect"
                break
            text, pos = _cstring(c.data, pos + 1, False)
            offered.append(text)
        self.smb1_offered = tuple(offered)
        ev.append(SmbDialects(c.ts, self.uid, 1, self.smb1_offered, None))

    def _s1_negotiate_resp(self, c: _Smb1Context, ev: list[object]) -> None:
        if len(c.words) < 2:
            return
        index = _u16(c.words, 0)
        chosen = self.smb1_offered[index] if index < len(self.smb1_offered) else None
        if chosen is not None:
            self.session.dialect = chosen
        ev.append(SmbDialects(c.ts, self.uid, 1, (), chosen))

    def _s1_session_setup_req(self, c: _Smb1Context, ev: list[object]) -> None:
        ntlm = None
        if len(c.words) == 24:  # extended security: a security blob
            ntlm = self._saw_blob(_take(c.data, 0, _u16(c.words, 14)))
        elif len(c.words) in (20, 26):  # LANMAN (10 words) / NT LM 0.12 (13 words): names in clear
            oem_len = _u16(c.words, 14)
            uni_len = _u16(c.words, 16) if len(c.words) == 26 else 0
            pos = oem_len + uni_len
            if c.unicode and (c.data_at + pos) % 2:
                pos += 1
            user, pos = _cstring(c.data, pos, c.unicode)
            domain, _ = _cstring(c.data, pos, c.unicode)
            self.session.auth, self.session.user, self.session.domain = "plain", user, domain
            ntlm = NtlmAuth(NTLMSSP_AUTHENTICATE, user, domain, None)
        c.new_request = _Request(c.ts, "SESSION_SETUP_ANDX", c.tid, ntlm=ntlm)

    def _s1_session_setup_resp(self, c: _Smb1Context, ev: list[object]) -> None:
        self._authenticated(c.req.ntlm if c.req else None, c.status, c.ok)

    def _s1_tree_connect_req(self, c: _Smb1Context, ev: list[object]) -> None:
        pos = _u16(c.words, 6)  # password length
        if c.unicode and (c.data_at + pos) % 2:
            pos += 1
        path, _ = _cstring(c.data, pos, c.unicode)
        c.new_request = _Request(c.ts, "TREE_CONNECT_ANDX", c.tid, name=path)

    def _s1_tree_connect_resp(self, c: _Smb1Context, ev: list[object]) -> None:
        req = c.req
        if req is None:
            return
        service = _cstring(c.data, 0, False)[0] if c.ok and c.data else None
        tree = _Tree(req.name, SMB1_SERVICES.get(service or ""))
        if c.ok:
            self._set_tree(1, c.tid, tree)
        ev.append(self._tree_record(req, tree, service, c.status_text))

    def _s1_tree_disconnect_resp(self, c: _Smb1Context, ev: list[object]) -> None:
        if c.ok:
            self.trees.pop((1, c.tid), None)

    def _s1_nt_create_req(self, c: _Smb1Context, ev: list[object]) -> None:
        length = _u16(c.words, 5)
        pos = 1 if c.unicode and c.data_at % 2 else 0
        raw = c.data[pos : pos + length]
        name = _utf16(raw).rstrip("\x00") if c.unicode else _oem(raw).rstrip("\x00")
        c.new_request = _Request(c.ts, "NT_CREATE_ANDX", c.tid, name=name)

    def _s1_open_andx_req(self, c: _Smb1Context, ev: list[object]) -> None:
        pos = 1 if c.unicode and c.data_at % 2 else 0
        name, _ = _cstring(c.data, pos, c.unicode)
        c.new_request = _Request(c.ts, "OPEN_ANDX", c.tid, name=name)

    def _s1_open_resp(self, c: _Smb1Context, ev: list[object]) -> None:
        req = c.req
        if req is None:
            return
        tree = self._tree(1, req.tree_id)
        path = tree.path if tree else None
        if not c.ok or len(c.words) < 7:
            self._file_record(_File(req.ts, 1, req.name, path, None, None, c.status_text), c.ts, False, ev)
            return
        if req.command == "NT_CREATE_ANDX":
            fid = _take(c.words, 5, 2)
            action = SMB2_CREATE_ACTIONS.get(_u32(c.words, 7))
            size = _u64(c.words, 55) if len(c.words) >= 63 else None
        else:
            fid = _take(c.words, 4, 2)
            action, size = "OPENED", _u32(c.words, 12) if len(c.words) >= 16 else None
        self._open(b"\x01" + fid, _File(req.ts, 1, req.name, path, action, size, c.status_text), c.ts, ev)

    def _s1_fid_req(self, c: _Smb1Context, ev: list[object]) -> None:
        """READ_ANDX / WRITE_ANDX (fid after the AndX block) and CLOSE / READ / WRITE (fid first)."""
        at = 4 if c.command in (0x2E, 0x2F) else 0
        fid = b"\x01" + _take(c.words, at, 2)
        c.new_request = _Request(c.ts, smb1_command_name(c.command), c.tid, file_ref=fid)

    def _s1_read_andx_resp(self, c: _Smb1Context, ev: list[object]) -> None:
        if c.ok and len(c.words) >= 12:
            high = _u16(c.words, 14) if len(c.words) >= 16 else 0
            self._moved(c.req.file_ref if c.req else None, (high << 16) | _u16(c.words, 10), 0)

    def _s1_write_andx_resp(self, c: _Smb1Context, ev: list[object]) -> None:
        if c.ok and len(c.words) >= 6:
            high = _u16(c.words, 8) if len(c.words) >= 10 else 0
            self._moved(c.req.file_ref if c.req else None, 0, (high << 16) | _u16(c.words, 4))

    def _s1_read_resp(self, c: _Smb1Context, ev: list[object]) -> None:
        if c.ok and len(c.words) >= 2:
            self._moved(c.req.file_ref if c.req else None, _u16(c.words, 0), 0)

    def _s1_write_resp(self, c: _Smb1Context, ev: list[object]) -> None:
        if c.ok and len(c.words) >= 2:
            self._moved(c.req.file_ref if c.req else None, 0, _u16(c.words, 0))

    def _s1_close_resp(self, c: _Smb1Context, ev: list[object]) -> None:
        fid = self._resolve(c.req.file_ref) if c.req else None
        if c.ok and fid is not None and fid in self.files:
            self._file_record(self.files.pop(fid), c.ts, True, ev)

    def _s1_transaction_req(self, c: _Smb1Context, ev: list[object]) -> None:
        pos = 1 if c.unicode and c.data_at % 2 else 0
        name, _ = _cstring(c.data, pos, c.unicode)
        if name.upper().startswith("\\PIPE\\"):
            self._mark_pipe(1, c.tid)


@dataclass(frozen=True, slots=True)
class _Pdu:
    """The SMB2 PDU being parsed, as its command handler sees it."""

    pdu: bytes
    status: int
    msg_id: int
    tree_id: int | None
    req: _Request | None
    """The request this response answers (None for requests and unmatched responses)."""
    ts: float


@dataclass(slots=True)
class _Smb1Context:
    """Facts of the SMB1 message being parsed, shared by the blocks of its AndX chain."""

    msg: bytes
    unicode: bool
    tid: int
    ok: bool
    status: int
    status_text: str
    req: _Request | None
    ts: float
    command: int = 0
    """Command of the block being parsed (the header's, then each AndX-chained one)."""
    words: bytes = b""
    """Parameter words of the block being parsed."""
    data: bytes = b""
    """Data bytes of the block being parsed."""
    data_at: int = 0
    """Offset of `data` from the SMB header (for UTF-16 alignment)."""
    new_request: _Request | None = None


def _smb1_block(msg: bytes, offset: int) -> tuple[bytes, bytes, int] | None:
    """(parameter words, data bytes, offset of the data) of the SMB1 block at `offset`, or None."""
    if offset >= len(msg):
        return None
    wc = msg[offset]
    words_end = offset + 1 + 2 * wc
    if words_end + 2 > len(msg):
        return None
    bc = msg[words_end] | msg[words_end + 1] << 8
    data_at = words_end + 2
    return msg[offset + 1 : words_end], msg[data_at : data_at + bc], data_at


_SMB2_HANDLERS = {
    ("NEGOTIATE", False): SmbParser._s2_negotiate_req,
    ("NEGOTIATE", True): SmbParser._s2_negotiate_resp,
    ("SESSION_SETUP", False): SmbParser._s2_session_setup_req,
    ("SESSION_SETUP", True): SmbParser._s2_session_setup_resp,
    ("TREE_CONNECT", False): SmbParser._s2_tree_connect_req,
    ("TREE_CONNECT", True): SmbParser._s2_tree_connect_resp,
    ("TREE_DISCONNECT", True): SmbParser._s2_tree_disconnect_resp,
    ("CREATE", False): SmbParser._s2_create_req,
    ("CREATE", True): SmbParser._s2_create_resp,
    ("READ", False): SmbParser._s2_read_req,
    ("READ", True): SmbParser._s2_read_resp,
    ("WRITE", False): SmbParser._s2_write_req,
    ("WRITE", True): SmbParser._s2_write_resp,
    ("CLOSE", False): SmbParser._s2_close_req,
    ("CLOSE", True): SmbParser._s2_close_resp,
    ("IOCTL", False): SmbParser._s2_ioctl_req,
}
"""(SMB2 command, is response) -> what it tells. Requests not listed are remembered with their tree."""

_SMB1_HANDLERS = {
    (0x72, False): SmbParser._s1_negotiate_req,
    (0x72, True): SmbParser._s1_negotiate_resp,
    (0x73, False): SmbParser._s1_session_setup_req,
    (0x73, True): SmbParser._s1_session_setup_resp,
    (0x75, False): SmbParser._s1_tree_connect_req,
    (0x75, True): SmbParser._s1_tree_connect_resp,
    (0x71, True): SmbParser._s1_tree_disconnect_resp,
    (0xA2, False): SmbParser._s1_nt_create_req,
    (0xA2, True): SmbParser._s1_open_resp,
    (0x2D, False): SmbParser._s1_open_andx_req,
    (0x2D, True): SmbParser._s1_open_resp,
    (0x2E, False): SmbParser._s1_fid_req,
    (0x2E, True): SmbParser._s1_read_andx_resp,
    (0x2F, False): SmbParser._s1_fid_req,
    (0x2F, True): SmbParser._s1_write_andx_resp,
    (0x0A, False): SmbParser._s1_fid_req,
    (0x0A, True): SmbParser._s1_read_resp,
    (0x0B, False): SmbParser._s1_fid_req,
    (0x0B, True): SmbParser._s1_write_resp,
    (0x04, False): SmbParser._s1_fid_req,
    (0x04, True): SmbParser._s1_close_resp,
    (0x25, False): SmbParser._s1_transaction_req,
}
"""(SMB1 command code, is response) -> what it tells."""


# -- TCP framing --------------------------------------------------------------------------------------

_HEADER, _BODY, _HUNT = 0, 1, 2
_KIND_NBSS, _KIND_SMB1, _KIND_SMB2, _KIND_TRANSFORM, _KIND_COMPRESSED = range(5)
_MAGIC_KINDS = {
    SMB1_MAGIC: _KIND_SMB1,
    SMB2_MAGIC: _KIND_SMB2,
    TRANSFORM_MAGIC: _KIND_TRANSFORM,
    COMPRESSION_MAGIC: _KIND_COMPRESSED,
}
_SMB_MARKERS = frozenset(m[0] for m in _MAGIC_KINDS)


class _Dir:
    """Framing state of one direction."""

    __slots__ = (
        "frozen",
        "hdr",
        "header_done",
        "hunted",
        "kind",
        "last_hdr",
        "msg_len",
        "msg_pos",
        "nbss_type",
        "pdu",
        "pdu_end",
        "pdu_start",
        "skip",
        "state",
        "synced",
        "tail",
    )

    def __init__(self) -> None:
        self.state = _HEADER
        self.hdr = bytearray()
        self.synced = False
        """A valid message was seen: framing errors are now Malformed, not a reason to hunt."""
        self.hunted = 0
        self.tail = b""
        self.nbss_type = 0
        self.last_hdr = b""
        """The NBSS header of the current message (re-scanned if its body proves bogus)."""
        self.msg_len = 0
        self.msg_pos = 0
        self.pdu = bytearray()
        self.pdu_start = 0
        self.pdu_end: int | None = None
        self.kind: int | None = None
        self.header_done = False
        self.skip = False
        """The rest of the current message is not parsed (lost in a gap, encrypted, or broken)."""
        self.frozen = False
        """A gap hit the current PDU: its kept bytes stop growing, offsets stay valid."""

    def start(self, nbss_type: int, length: int) -> None:
        self.state = _BODY
        self.nbss_type = nbss_type
        self.msg_len = length
        self.msg_pos = 0
        self.new_pdu()
        self.skip = False
        self.kind = None if nbss_type == 0 else _KIND_NBSS

    def new_pdu(self) -> None:
        self.pdu.clear()
        self.pdu_start = self.msg_pos
        self.pdu_end = None
        self.header_done = False
        self.frozen = False
        self.kind = None


class SmbDissector:
    """Stream dissector for SMB over TCP (445 direct, 139 NetBIOS session service)."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.uid = flow.uid
        low = min(flow.orig_port, flow.resp_port)
        self.parser = SmbParser(
            flow.uid, (flow.orig_h, flow.orig_port, flow.resp_h, flow.resp_port), f"tcp/{low}"
        )
        self._dirs = {True: _Dir(), False: _Dir()}

    # -- the stream contract --

    def feed(self, data: bytes, from_client: bool, ts: float) -> list[object]:
        d = self._dirs[from_client]
        events: list[object] = []
        pos = 0
        while pos < len(data):
            if d.state == _HUNT:
                found = self._hunt(d, data, pos)
                if found is None:
                    break
                data, pos = found, 0
            elif d.state == _HEADER:
                take = min(NBSS_HEADER_LEN - len(d.hdr), len(data) - pos)
                d.hdr += data[pos : pos + take]
                pos += take
                if len(d.hdr) == NBSS_HEADER_LEN:
                    self._header(d, ts, events)
            else:
                pos = self._body(d, data, pos, from_client, ts, events)
        return events

    def gap(self, size: int, from_client: bool, ts: float) -> list[object]:
        d = self._dirs[from_client]
        events: list[object] = []
        if d.state == _BODY and size <= d.msg_len - d.msg_pos:
            d.msg_pos += size
            header_kept = d.kind in (_KIND_SMB1, _KIND_NBSS) or (d.kind == _KIND_SMB2 and d.header_done)
            if header_kept and (d.pdu_end is None or d.msg_pos <= d.pdu_end):
                d.frozen = True  # offsets stay right: the PDU keeps what it has, the compound goes on
            else:
                d.skip = True
            if d.msg_pos == d.msg_len:
                self._message_done(d, from_client, ts, events)
            return events
        d.state = _HUNT  # the next message start is somewhere after the hole
        d.hdr.clear()
        d.tail = b""
        return events

    def close(self, ts: float) -> list[object]:
        events = self.parser.close_files(ts)
        record = self.parser.session_record(ts)
        if record is not None:
            events.append(record)
        return events

    # -- framing --

    def _desync(self, d: _Dir, reason: str, detail: str, consumed: bytes) -> None:
        """Broken framing: Malformed once in sync, else hunt from the byte after the bogus start."""
        if d.synced:
            raise Malformed(reason, detail)
        d.state = _HUNT
        d.tail = consumed[1:]
        d.hdr.clear()

    def _header(self, d: _Dir, ts: float, events: list[object]) -> None:
        hdr = bytes(d.hdr)
        nbss_type = hdr[0]
        length = (hdr[1] << 16) | (hdr[2] << 8) | hdr[3]
        if nbss_type not in NBSS_TYPES:
            self._desync(d, "nbss.bad_type", f"type 0x{nbss_type:02x}", hdr)
            return
        if length > MAX_MESSAGE_LENGTH:
            self._desync(d, "smb.message_too_long", f"{length} bytes", hdr)
            return
        d.hdr.clear()
        d.last_hdr = hdr
        d.start(nbss_type, length)
        if length == 0:
            self._message_done(d, True, ts, events)

    def _hunt(self, d: _Dir, data: bytes, pos: int) -> bytes | None:
        """Look for a message start; return the bytes from there on (None: not found in this chunk)."""
        buf = d.tail + data[pos:]
        at = 5
        while True:
            j = buf.find(b"SMB", at)
            if j < 0:
                break
            start = j - 5
            if buf[start] == 0 and buf[j - 1] in _SMB_MARKERS:
                length = (buf[start + 1] << 16) | (buf[start + 2] << 8) | buf[start + 3]
                minimum = SMB2_HEADER_LEN if buf[j - 1] == SMB2_MAGIC[0] else NBSS_HEADER_LEN
                if minimum <= length <= MAX_MESSAGE_LENGTH:
                    d.state = _HEADER
                    d.tail = b""
                    return buf[start:]
            at = j + 1
        d.hunted += len(data) - pos
        d.tail = buf[-HUNT_TAIL:]
        if not d.synced and d.hunted > MAX_HUNT_BYTES:
            raise Malformed("smb.no_sync", f"no SMB message start in {d.hunted} bytes")
        return None

    def _body(
        self, d: _Dir, data: bytes, pos: int, from_client: bool, ts: float, events: list[object]
    ) -> int:
        end = pos + min(len(data) - pos, d.msg_len - d.msg_pos)
        while pos < end:
            if d.skip:
                d.msg_pos += end - pos
                pos = end
                break
            if d.kind is None or (d.kind == _KIND_SMB2 and not d.header_done):
                need = (4 if d.kind is None else SMB2_HEADER_LEN) - len(d.pdu)
                piece = min(need, end - pos)
                d.pdu += data[pos : pos + piece]
                pos += piece
                d.msg_pos += piece
                if d.kind is None and len(d.pdu) == 4:
                    self._magic(d, ts, events)
                    if d.state == _HUNT:
                        return pos
                if d.kind == _KIND_SMB2 and len(d.pdu) == SMB2_HEADER_LEN:
                    self._next_command(d, ts, events)
                continue
            limit = (d.pdu_end if d.pdu_end is not None else d.msg_len) - d.msg_pos
            piece = min(limit, end - pos)
            room = 0 if d.frozen else MAX_KEPT - len(d.pdu)
            if room > 0:
                d.pdu += data[pos : pos + min(piece, room)]
            pos += piece
            d.msg_pos += piece
            if d.pdu_end is not None and d.msg_pos == d.pdu_end:
                self._pdu_done(d, from_client, ts, events)
                d.new_pdu()
        if d.state == _BODY and d.msg_pos == d.msg_len:
            self._message_done(d, from_client, ts, events)
        return pos

    def _magic(self, d: _Dir, ts: float, events: list[object]) -> None:
        """Decide the kind of the PDU from its protocol id (the stream may go to HUNT)."""
        magic = bytes(d.pdu[:4])
        kind = _MAGIC_KINDS.get(magic)
        if d.pdu_start > 0:  # inside an SMB2 compound only SMB2 headers may follow
            if kind != _KIND_SMB2:
                self.parser._weird(ts, "smb2.bad_compound", f"protocol id {magic.hex()}", events)
                d.skip = True
                return
        elif kind is None:
            self._desync(d, "smb.bad_protocol_id", magic.hex(), d.last_hdr + magic)
            return
        d.kind = kind
        d.synced = True
        if kind in (_KIND_TRANSFORM, _KIND_COMPRESSED):
            is_response = d is self._dirs[False]
            label = "encrypted" if kind == _KIND_TRANSFORM else "compressed"
            self.parser.transform(label, is_response, d.msg_len, ts, events)
            d.skip = True

    def _next_command(self, d: _Dir, ts: float, events: list[object]) -> None:
        d.header_done = True
        nxt = int.from_bytes(d.pdu[20:24], "little")
        if not nxt:
            return
        if nxt % 8 or nxt < SMB2_HEADER_LEN or d.pdu_start + nxt >= d.msg_len:
            self.parser._weird(ts, "smb2.bad_next_command", f"NextCommand {nxt} at {d.pdu_start}", events)
            return
        d.pdu_end = d.pdu_start + nxt

    def _pdu_done(self, d: _Dir, from_client: bool, ts: float, events: list[object]) -> None:
        if d.kind == _KIND_SMB2:
            self.parser.smb2(bytes(d.pdu), ts, events)
        elif d.kind == _KIND_SMB1:
            self.parser.smb1(bytes(d.pdu), ts, events)
        elif d.kind == _KIND_NBSS and d.nbss_type == 0x81:
            self.parser.nbss_session_request(bytes(d.pdu))

    def _message_done(self, d: _Dir, from_client: bool, ts: float, events: list[object]) -> None:
        if not d.skip:
            if d.kind is None and d.nbss_type == 0 and d.msg_len:
                self.parser._weird(ts, "smb.short_message", f"{d.msg_len} bytes", events)
            elif d.kind is not None:
                self._pdu_done(d, from_client, ts, events)
        if d.nbss_type != 0 or d.kind is not None:
            d.synced = True
        d.state = _HEADER
        d.pdu.clear()


# -- UDP 138: NetBIOS datagram service ------------------------------------------------------------------

NBDS_DIRECT_TYPES = frozenset({0x10, 0x11, 0x12})
"""NetBIOS datagram types that carry user data: direct unique, direct group, broadcast (RFC 1002 4.4)."""
NBDS_HEADER_LEN = 14
"""Type, flags, id, source IP, source port, datagram length, packet offset."""
NBDS_MORE_FRAGMENTS = 0x01
"""Flags bit M: more fragments follow (only the first fragment starts with an SMB header)."""


def parse_datagram(payload: bytes, pkt: Packet) -> list[object]:
    """SMB1 carried in a NetBIOS datagram (browser announcements, mailslots): counted, no session."""
    if len(payload) < NBDS_HEADER_LEN:
        raise Malformed("nbds.short", f"{len(payload)} bytes")
    if payload[0] not in NBDS_DIRECT_TYPES:
        return []  # error or name-query datagrams carry no SMB
    if int.from_bytes(payload[12:14], "big"):
        return []  # a later fragment
    pos = NBDS_HEADER_LEN
    for _ in range(2):  # source and destination names
        labels = 0
        while pos < len(payload) and payload[pos]:
            if payload[pos] & 0xC0:
                raise Malformed("nbds.bad_name", f"label byte 0x{payload[pos]:02x}")
            pos += 1 + payload[pos]
            labels += 1
            if labels > 64:
                raise Malformed("nbds.bad_name", "too many labels")
        pos += 1
    if pos > len(payload):
        raise Malformed("nbds.short", "names run past the datagram")
    smb = payload[pos:]
    if not smb.startswith(SMB1_MAGIC):
        return []
    flow = pkt.flow
    if not isinstance(flow, Flow):
        return []
    parser = SmbParser(flow.uid, (flow.orig_h, flow.orig_port, flow.resp_h, flow.resp_port), "udp/138")
    events: list[object] = []
    try:
        parser.smb1(smb[:MAX_KEPT], pkt.ts, events)
    except _Short as exc:
        raise Malformed("smb1.short", f"field at {exc.args[0]}") from None
    return events


def parse_message(
    msg: bytes, ts: float, uid: str, endpoints: tuple[str, int, str, int], transport: str
) -> list[object]:
    """One SMB1 message carried outside TCP and UDP (NetBIOS Frames, IPX): counted, no session."""
    parser = SmbParser(uid, endpoints, transport)
    events: list[object] = []
    try:
        parser.smb1(msg[:MAX_KEPT], ts, events)
    except _Short as exc:
        raise Malformed("smb1.short", f"field at {exc.args[0]}") from None
    return events
