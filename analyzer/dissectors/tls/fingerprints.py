"""TLS client and server fingerprints: JA3 / JA3S (Salesforce) and JA4 / JA4S (FoxIO).

Pure functions over the values a hello carries, so they can be tested against the published vectors
without building packets. GREASE values (RFC 8701: 0x0A0A, 0x1A1A, ..., 0xFAFA) are dropped wherever
both specifications say so: JA3 drops them from ciphers, extensions and groups; JA4 "ignores GREASE
values anywhere it sees them" (ciphers, extensions, supported_versions, signature algorithms).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

JA4_EMPTY_HASH = "000000000000"
"""JA4 part b/c when its list is empty (the spec prints zeros rather than the hash of nothing)."""
JA4_HASH_CHARS = 12
"""JA4 hashes are SHA-256 truncated to this many lowercase hex characters."""
JA4_MAX_COUNT = 99
"""JA4 counts are two decimal digits: more than this prints 99."""
EXT_SERVER_NAME = 0x0000
"""server_name extension: already in JA4 part a ("d"/"i"), so left out of the extension hash."""
EXT_ALPN = 0x0010
"""ALPN extension: already in JA4 part a, so left out of the extension hash."""

JA4_VERSIONS: dict[int, str] = {
    0x0304: "13",
    0x0303: "12",
    0x0302: "11",
    0x0301: "10",
    0x0300: "s3",
    0x0002: "s2",
    0xFEFF: "d1",
    0xFEFD: "d2",
    0xFEFC: "d3",
}
"""Protocol version -> JA4's two characters; anything else is "00"."""


def is_grease(value: int) -> bool:
    """RFC 8701 GREASE value: both bytes equal and of the form 0x?A."""
    return (value & 0x0F0F) == 0x0A0A and (value >> 8) == (value & 0xFF)


def _no_grease(values: Sequence[int]) -> list[int]:
    return [v for v in values if not is_grease(v)]


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _sha12(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:JA4_HASH_CHARS]


def ja3_string(
    version: int,
    ciphers: Sequence[int],
    extensions: Sequence[int],
    groups: Sequence[int],
    point_formats: Sequence[int],
) -> str:
    """JA3 full string: version,ciphers,extensions,groups,point formats (decimal, '-' joined)."""
    return ",".join(
        [
            str(version),
            "-".join(map(str, _no_grease(ciphers))),
            "-".join(map(str, _no_grease(extensions))),
            "-".join(map(str, _no_grease(groups))),
            "-".join(map(str, point_formats)),
        ]
    )


def ja3s_string(version: int, cipher: int, extensions: Sequence[int]) -> str:
    """JA3S full string: version,cipher,extensions (decimal, '-' joined)."""
    return f"{version},{cipher}," + "-".join(map(str, _no_grease(extensions)))


def ja3_hash(full: str) -> str:
    """JA3 / JA3S hash: MD5 of the full string, lowercase hex."""
    return _md5(full)


def _ja4_version(legacy_version: int, supported_versions: Sequence[int] | None) -> str:
    versions = _no_grease(supported_versions or ())
    version = max(versions) if versions else legacy_version
    return JA4_VERSIONS.get(version, "00")


def _alnum(byte: int) -> bool:
    return 0x30 <= byte <= 0x39 or 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A


def ja4_alpn(first_alpn: bytes | None) -> str:
    """First and last characters of the first ALPN value; hex digits if either is not alphanumeric."""
    if not first_alpn:
        return "00"
    first, last = first_alpn[0], first_alpn[-1]
    if _alnum(first) and _alnum(last):
        return chr(first) + chr(last)
    hexed = first_alpn.hex()
    return hexed[0] + hexed[-1]


def _count(n: int) -> str:
    return f"{min(n, JA4_MAX_COUNT):02d}"


def ja4(
    legacy_version: int,
    supported_versions: Sequence[int] | None,
    ciphers: Sequence[int],
    extensions: Sequence[int],
    signature_algorithms: Sequence[int],
    first_alpn: bytes | None,
    transport: str = "t",
) -> str:
    """JA4 of a ClientHello (FoxIO): a_b_c with a = proto, version, SNI, counts, ALPN."""
    ciphers = _no_grease(ciphers)
    exts = _no_grease(extensions)
    sni = "d" if EXT_SERVER_NAME in exts else "i"
    part_a = (
        transport
        + _ja4_version(legacy_version, supported_versions)
        + sni
        + _count(len(ciphers))
        + _count(len(exts))
        + ja4_alpn(first_alpn)
    )
    part_b = _sha12(",".join(f"{c:04x}" for c in sorted(ciphers))) if ciphers else JA4_EMPTY_HASH
    hashed_exts = sorted(e for e in exts if e not in (EXT_SERVER_NAME, EXT_ALPN))
    if hashed_exts:
        text = ",".join(f"{e:04x}" for e in hashed_exts)
        sigs = _no_grease(signature_algorithms)
        if sigs:
            text += "_" + ",".join(f"{s:04x}" for s in sigs)
        part_c = _sha12(text)
    else:
        part_c = JA4_EMPTY_HASH
    return f"{part_a}_{part_b}_{part_c}"


def ja4s(
    legacy_version: int,
    selected_version: int | None,
    cipher: int,
    extensions: Sequence[int],
    alpn: bytes | None,
    transport: str = "t",
) -> str:
    """JA4S of a ServerHello (FoxIO): proto, version, extension count, ALPN _ cipher _ extension hash."""
    exts = _no_grease(extensions)
    version = JA4_VERSIONS.get(selected_version if selected_version is not None else legacy_version, "00")
    part_a = transport + version + _count(len(exts)) + ja4_alpn(alpn)
    part_c = _sha12(",".join(f"{e:04x}" for e in exts)) if exts else JA4_EMPTY_HASH
    return f"{part_a}_{cipher:04x}_{part_c}"


__all__ = [
    "is_grease",
    "ja3_hash",
    "ja3_string",
    "ja3s_string",
    "ja4",
    "ja4_alpn",
    "ja4s",
]
