"""Limits, wire constants and name tables of SMB1, SMB2/3 and the NetBIOS session service."""

from __future__ import annotations

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
