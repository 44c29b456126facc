"""QUIC Initial packet protection (RFC 9001 §5, RFC 9369 §3.3): keys, header protection, AEAD.

Initial packets are encrypted, but with keys anyone can derive: HKDF-Extract over the client's
Destination Connection ID with a salt fixed per QUIC version, then HKDF-Expand-Label ("client in" /
"server in", then "quic key" / "quic iv" / "quic hp"; QUIC v2 uses "quicv2 ..." labels and its own
salt). HKDF is HMAC-SHA256 from the standard library; AES-128-ECB (header protection) and
AES-128-GCM (payload) come from the `cryptography` package.

Everything here is pure: bytes in, bytes out, `Malformed` when a packet cannot be opened.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from analyzer.errors import Malformed

QUIC_V1 = 0x00000001
"""RFC 9000."""
QUIC_V2 = 0x6B3343CF
"""RFC 9369."""

QUIC_V2_DRAFT = 0x709A50C4
"""draft-ietf-quic-v2-00 .. -09 (before RFC 9369): v2's salt, labels and packet types."""

SALT_DRAFT_22 = bytes.fromhex("7fbcdb0e7c66bbe9193a96cd21519ebd7a02644a")
SALT_DRAFT_23 = bytes.fromhex("c3eef712c72ebb5a11a7d2432bb46365bef9f502")
SALT_DRAFT_29 = bytes.fromhex("afbfec289993d24c9e9786f19c6111e04390a899")
SALT_V1 = bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a")
SALT_V2 = bytes.fromhex("0dede3def700a6db819381be6e269dcbf9bd2ed9")

INITIAL_SALTS: dict[int, bytes] = {
    QUIC_V1: SALT_V1,  # RFC 9001 §5.2
    QUIC_V2: SALT_V2,  # RFC 9369 §3.3.1
    0xFACEB001: SALT_DRAFT_22,  # Facebook mvfst, draft-22 based
    0xFACEB002: SALT_DRAFT_23,  # mvfst, draft-27 based
    0xFACEB00E: SALT_DRAFT_23,  # mvfst experimental, draft-27 based
    0x54303531: bytes.fromhex("7a4edef4e7ccee5fa4506c19124fc8ccda6e033d"),  # Google T051 (TLS)
}
"""QUIC version -> Initial salt, for versions that are not IETF drafts (see `initial_salt`)."""

V2_VERSIONS = frozenset({QUIC_V2})
"""Versions with v2's key labels and remapped long-header packet types (RFC 9369 §3.2)."""


def initial_salt(version: int) -> bytes | None:
    """The Initial salt of a version (IETF drafts 22 to 34 too, as Wireshark knows them), or None."""
    salt = INITIAL_SALTS.get(version)
    if salt is not None:
        return salt
    if version >> 8 == 0xFF0000:
        draft = version & 0xFF
        if draft <= 21:
            return None
        if draft == 22:
            return SALT_DRAFT_22
        if draft <= 28:
            return SALT_DRAFT_23
        if draft <= 32:
            return SALT_DRAFT_29
        if draft <= 34:
            return SALT_V1
    if version & 0x0F0F0F0F == 0x0A0A0A0A:
        return SALT_DRAFT_29  # reserved "?a?a?a?a" versions (RFC 9000 §15): Wireshark opens them so
    return None


V1_LABELS = (b"quic key", b"quic iv", b"quic hp")
"""HKDF labels of (key, iv, hp) (RFC 9001 §5.1)."""
V2_LABELS = (b"quicv2 key", b"quicv2 iv", b"quicv2 hp")
"""QUIC v2's labels (RFC 9369 §3.3.2)."""

AEAD_TAG_LEN = 16
"""AES-128-GCM authentication tag."""
HP_SAMPLE_LEN = 16
"""Header-protection sample length (RFC 9001 §5.4.2)."""


def _hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def hkdf_expand_label(secret: bytes, label: bytes, length: int) -> bytes:
    """TLS 1.3 HKDF-Expand-Label with an empty context (RFC 8446 §7.1); length <= 32 here."""
    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + b"\x00"
    return hmac.new(secret, info + b"\x01", hashlib.sha256).digest()[:length]


@dataclass(frozen=True, slots=True)
class InitialKeys:
    """The packet protection keys of one direction of one connection's Initial space."""

    key: bytes
    """AES-128-GCM key."""
    iv: bytes
    """12-byte AEAD IV."""
    hp: bytes
    """AES-128 header-protection key."""


def initial_keys(version: int, dcid: bytes, server: bool) -> InitialKeys:
    """Initial keys of the client (server=False) or the server, from the client's first DCID."""
    salt = initial_salt(version)
    if salt is None:
        raise Malformed("quic.unsupported_version", f"{version:#010x}")
    secret = _hkdf_extract(salt, dcid)
    side = hkdf_expand_label(secret, b"server in" if server else b"client in", 32)
    key_label, iv_label, hp_label = V2_LABELS if version in V2_VERSIONS else V1_LABELS
    return InitialKeys(
        key=hkdf_expand_label(side, key_label, 16),
        iv=hkdf_expand_label(side, iv_label, 12),
        hp=hkdf_expand_label(side, hp_label, 16),
    )


def hp_mask(hp_key: bytes, sample: bytes) -> bytes:
    """AES-128-ECB of the sample under the header-protection key (RFC 9001 §5.4.3)."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    enc = Cipher(algorithms.AES(hp_key), modes.ECB()).encryptor()
    return enc.update(sample) + enc.finalize()


def nonce(iv: bytes, packet_number: int) -> bytes:
    """The AEAD nonce: the IV XOR the packet number, left-padded (RFC 9001 §5.3)."""
    pn = packet_number.to_bytes(len(iv), "big")
    return bytes(a ^ b for a, b in zip(iv, pn, strict=True))


def open_payload(keys: InitialKeys, packet_number: int, header: bytes, ciphertext: bytes) -> bytes:
    """AES-128-GCM decryption of a packet payload; the unprotected header is the associated data."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(ciphertext) < AEAD_TAG_LEN:
        raise Malformed("quic.payload_too_short", f"{len(ciphertext)} bytes")
    try:
        return AESGCM(keys.key).decrypt(nonce(keys.iv, packet_number), ciphertext, header)
    except InvalidTag:
        raise Malformed("quic.decrypt_failed", "") from None


def seal_payload(keys: InitialKeys, packet_number: int, header: bytes, plaintext: bytes) -> bytes:
    """AES-128-GCM encryption (the inverse of `open_payload`; used to build test packets)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(keys.key).encrypt(nonce(keys.iv, packet_number), plaintext, header)


def decode_packet_number(truncated: int, pn_len: int, largest: int) -> int:
    """The full packet number nearest to largest+1 whose low bits are `truncated` (RFC 9000 §A.3)."""
    expected = largest + 1
    win = 1 << (pn_len * 8)
    hwin, mask = win // 2, win - 1
    candidate = (expected & ~mask) | truncated
    if candidate <= expected - hwin and candidate < (1 << 62) - win:
        return candidate + win
    if candidate > expected + hwin and candidate >= win:
        return candidate - win
    return candidate


__all__ = [
    "AEAD_TAG_LEN",
    "HP_SAMPLE_LEN",
    "INITIAL_SALTS",
    "QUIC_V1",
    "QUIC_V2",
    "V1_LABELS",
    "V2_LABELS",
    "V2_VERSIONS",
    "InitialKeys",
    "decode_packet_number",
    "hkdf_expand_label",
    "hp_mask",
    "initial_keys",
    "initial_salt",
    "nonce",
    "open_payload",
    "seal_payload",
]
