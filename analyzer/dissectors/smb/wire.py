"""Little-endian field readers and string decoders for SMB messages (`_Short`: a field past the end)."""

from __future__ import annotations

from analyzer.dissectors.smb.constants import MAX_NAME_CHARS

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
