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

# -- re-exports -------------------------------------------------------------------------------------
# The package's names, as when it was one module (registry, trackers, crosscheck, tests and the NetBEUI
# decoder import them from here). They come after the events, which the submodules import from here.
from analyzer.dissectors.smb.constants import (
    COMPRESSION_MAGIC,
    FILE,
    FUNCTIONS,
    HUNT_TAIL,
    KERBEROS_OID,
    MAX_ANDX_CHAIN,
    MAX_CREATE_IDS,
    MAX_DIALECTS,
    MAX_HUNT_BYTES,
    MAX_KEPT,
    MAX_MESSAGE_LENGTH,
    MAX_NAME_CHARS,
    MAX_OPEN_FILES,
    MAX_PENDING,
    MAX_SESSION_TREES,
    MAX_TREES,
    MESSAGING,
    MS_KERBEROS_OID,
    NBSS_HEADER_LEN,
    NBSS_TYPES,
    NT_STATUS_NAMES,
    NTLMSSP_AUTHENTICATE,
    NTLMSSP_NEGOTIATE_UNICODE,
    NTLMSSP_SIGNATURE,
    PIPE_FSCTLS,
    RELATED_FILE_ID,
    SESSION,
    SHARE_TYPES,
    SMB1_ANDX_COMMANDS,
    SMB1_COMMANDS,
    SMB1_FLAGS2_NT_STATUS,
    SMB1_FLAGS2_UNICODE,
    SMB1_FLAGS_REPLY,
    SMB1_FUNCTIONS,
    SMB1_HEADER_LEN,
    SMB1_MAGIC,
    SMB1_NO_COMMAND,
    SMB1_SERVICES,
    SMB2_COMMANDS,
    SMB2_CREATE_ACTIONS,
    SMB2_DIALECTS,
    SMB2_FLAGS_ASYNC,
    SMB2_FLAGS_RELATED,
    SMB2_FLAGS_RESPONSE,
    SMB2_FLAGS_SIGNED,
    SMB2_FUNCTIONS,
    SMB2_HEADER_LEN,
    SMB2_MAGIC,
    STATUS_PENDING,
    STATUS_SUCCESS,
    TRANSFORM_MAGIC,
    smb1_command_name,
    smb2_command_name,
    smb2_dialect_name,
    status_name,
)
from analyzer.dissectors.smb.dissector import (
    NBDS_DIRECT_TYPES,
    NBDS_HEADER_LEN,
    NBDS_MORE_FRAGMENTS,
    SmbDissector,
    parse_datagram,
    parse_message,
)
from analyzer.dissectors.smb.events import (
    SmbCommand,
    SmbDialects,
    SmbFileRecord,
    SmbSessionRecord,
    SmbTransform,
    SmbTreeRecord,
    SmbWeird,
)
from analyzer.dissectors.smb.ntlmssp import (
    NtlmAuth,
    parse_ntlmssp,
)
from analyzer.dissectors.smb.parser import (
    SmbParser,
)

__all__ = [
    "COMPRESSION_MAGIC",
    "FILE",
    "FUNCTIONS",
    "HUNT_TAIL",
    "KERBEROS_OID",
    "MAX_ANDX_CHAIN",
    "MAX_CREATE_IDS",
    "MAX_DIALECTS",
    "MAX_HUNT_BYTES",
    "MAX_KEPT",
    "MAX_MESSAGE_LENGTH",
    "MAX_NAME_CHARS",
    "MAX_OPEN_FILES",
    "MAX_PENDING",
    "MAX_SESSION_TREES",
    "MAX_TREES",
    "MESSAGING",
    "MS_KERBEROS_OID",
    "NBDS_DIRECT_TYPES",
    "NBDS_HEADER_LEN",
    "NBDS_MORE_FRAGMENTS",
    "NBSS_HEADER_LEN",
    "NBSS_TYPES",
    "NTLMSSP_AUTHENTICATE",
    "NTLMSSP_NEGOTIATE_UNICODE",
    "NTLMSSP_SIGNATURE",
    "NT_STATUS_NAMES",
    "PIPE_FSCTLS",
    "RELATED_FILE_ID",
    "SESSION",
    "SHARE_TYPES",
    "SMB1_ANDX_COMMANDS",
    "SMB1_COMMANDS",
    "SMB1_FLAGS2_NT_STATUS",
    "SMB1_FLAGS2_UNICODE",
    "SMB1_FLAGS_REPLY",
    "SMB1_FUNCTIONS",
    "SMB1_HEADER_LEN",
    "SMB1_MAGIC",
    "SMB1_NO_COMMAND",
    "SMB1_SERVICES",
    "SMB2_COMMANDS",
    "SMB2_CREATE_ACTIONS",
    "SMB2_DIALECTS",
    "SMB2_FLAGS_ASYNC",
    "SMB2_FLAGS_RELATED",
    "SMB2_FLAGS_RESPONSE",
    "SMB2_FLAGS_SIGNED",
    "SMB2_FUNCTIONS",
    "SMB2_HEADER_LEN",
    "SMB2_MAGIC",
    "STATUS_PENDING",
    "STATUS_SUCCESS",
    "TRANSFORM_MAGIC",
    "NtlmAuth",
    "SmbCommand",
    "SmbDialects",
    "SmbDissector",
    "SmbFileRecord",
    "SmbParser",
    "SmbSessionRecord",
    "SmbTransform",
    "SmbTreeRecord",
    "SmbWeird",
    "parse_datagram",
    "parse_message",
    "parse_ntlmssp",
    "smb1_command_name",
    "smb2_command_name",
    "smb2_dialect_name",
    "status_name",
]
