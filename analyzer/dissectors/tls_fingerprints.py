"""Moved to `analyzer.dissectors.tls.fingerprints`; this name stays so that older imports keep working."""

from __future__ import annotations

from analyzer.dissectors.tls.fingerprints import (
    JA4_EMPTY_HASH,
    JA4_HASH_CHARS,
    JA4_MAX_COUNT,
    JA4_VERSIONS,
    is_grease,
    ja3_hash,
    ja3_string,
    ja3s_string,
    ja4,
    ja4_alpn,
    ja4s,
)

__all__ = [
    "JA4_EMPTY_HASH",
    "JA4_HASH_CHARS",
    "JA4_MAX_COUNT",
    "JA4_VERSIONS",
    "is_grease",
    "ja3_hash",
    "ja3_string",
    "ja3s_string",
    "ja4",
    "ja4_alpn",
    "ja4s",
]
