"""NTLMSSP inside an SMB security blob: who authenticated (MS-NLMP 2.2.1.3), and which mechanism."""

from __future__ import annotations

from dataclasses import dataclass

from analyzer.dissectors.smb.constants import (
    KERBEROS_OID,
    MS_KERBEROS_OID,
    NTLMSSP_AUTHENTICATE,
    NTLMSSP_NEGOTIATE_UNICODE,
    NTLMSSP_SIGNATURE,
)
from analyzer.dissectors.smb.wire import _oem, _u16, _u32, _utf16


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
