"""TLS handshake message parsers: pure functions from a message body to the fields it carries.

ClientHello / ServerHello (TLS and SSLv2-compatible), Certificate lists, the ECDHE curve of a
ServerKeyExchange and alert records. Each parser reads through a bounds-checked `_Reader`, so a lie
about a length raises `Malformed` with a stable reason instead of reading past the message.
"""

from __future__ import annotations

from dataclasses import dataclass

from analyzer.dissectors.tls import fingerprints as fp
from analyzer.dissectors.tls.constants import (
    EC_NAMED_CURVE,
    EXT_ALPN,
    EXT_EC_POINT_FORMATS,
    EXT_KEY_SHARE,
    EXT_PRE_SHARED_KEY,
    EXT_SERVER_NAME,
    EXT_SESSION_TICKET,
    EXT_SIGNATURE_ALGORITHMS,
    EXT_SUPPORTED_GROUPS,
    EXT_SUPPORTED_VERSIONS,
    HRR_RANDOM,
    MAX_CERTS_PER_MESSAGE,
    MAX_LIST_VALUES,
    MAX_NAME_CHARS,
    SNI_HOST_NAME,
    SSL2_CLIENT_HELLO,
    SSL2_SERVER_HELLO,
)
from analyzer.errors import Malformed
from analyzer.frozen import interpreted_inits

# -- byte reader --------------------------------------------------------------------------------------


class _Reader:
    """Bounds-checked big-endian reader over one message; overruns raise Malformed(<what>_truncated)."""

    __slots__ = ("data", "end", "pos", "what")

    def __init__(self, data: bytes, what: str, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end
        self.what = what

    @property
    def left(self) -> int:
        return self.end - self.pos

    def take(self, n: int) -> bytes:
        if n > self.end - self.pos:
            raise Malformed(f"tls.{self.what}_truncated", f"need {n} bytes at {self.pos}, have {self.left}")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def vector(self, len_bytes: int) -> _Reader:
        """A sub-reader over a length-prefixed vector (the length must fit inside this reader)."""
        n = self.uint(len_bytes)
        if n > self.end - self.pos:
            raise Malformed(
                f"tls.{self.what}_bad_length", f"vector of {n} bytes at {self.pos}, have {self.left}"
            )
        sub = _Reader(self.data, self.what, self.pos, self.pos + n)
        self.pos += n
        return sub

    def rest(self) -> bytes:
        return self.take(self.left)

    def u16_list(self) -> tuple[int, ...]:
        if self.left % 2:
            raise Malformed(f"tls.{self.what}_bad_length", f"odd list length {self.left}")
        raw = self.rest()
        return tuple(int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2))


def wire_text(raw: bytes) -> str:
    """A name off the wire as text: at most MAX_NAME_CHARS bytes, undecodable bytes escaped."""
    return raw[:MAX_NAME_CHARS].decode("utf-8", "backslashreplace")


# -- message parsers (pure) ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, init=False)
class ClientHelloFields:
    """What a ClientHello says, before it is tied to a connection."""

    version: int
    """legacy_version."""
    session_id: bytes
    """Session id."""
    ciphers: tuple[int, ...]
    """Cipher suites."""
    extensions: tuple[int, ...]
    """Extension types in order."""
    server_name: str | None
    """First host_name."""
    alpn: tuple[bytes, ...]
    """ALPN protocols (raw bytes)."""
    groups: tuple[int, ...]
    """supported_groups."""
    point_formats: tuple[int, ...]
    """ec_point_formats."""
    signature_algorithms: tuple[int, ...]
    """signature_algorithms."""
    supported_versions: tuple[int, ...]
    """supported_versions."""
    ticket: bool
    """A non-empty session_ticket extension."""
    psk: bool
    """A pre_shared_key extension."""
    problems: tuple[str, ...]
    """Extensions whose own contents were malformed (reason keys); the hello still counts."""
    sslv2: bool = False
    """SSLv2-compatible CLIENT-HELLO."""
    truncated: bool = False
    """Only the first bytes of the message were seen: the fields are those read whole before the cut."""

    def __init__(
        self,
        version: int,
        session_id: bytes,
        ciphers: tuple[int, ...],
        extensions: tuple[int, ...],
        server_name: str | None,
        alpn: tuple[bytes, ...],
        groups: tuple[int, ...],
        point_formats: tuple[int, ...],
        signature_algorithms: tuple[int, ...],
        supported_versions: tuple[int, ...],
        ticket: bool,
        psk: bool,
        problems: tuple[str, ...],
        sslv2: bool = False,
        truncated: bool = False,
    ) -> None:
        self.version = version  # type: ignore[misc]
        self.session_id = session_id  # type: ignore[misc]
        self.ciphers = ciphers  # type: ignore[misc]
        self.extensions = extensions  # type: ignore[misc]
        self.server_name = server_name  # type: ignore[misc]
        self.alpn = alpn  # type: ignore[misc]
        self.groups = groups  # type: ignore[misc]
        self.point_formats = point_formats  # type: ignore[misc]
        self.signature_algorithms = signature_algorithms  # type: ignore[misc]
        self.supported_versions = supported_versions  # type: ignore[misc]
        self.ticket = ticket  # type: ignore[misc]
        self.psk = psk  # type: ignore[misc]
        self.problems = problems  # type: ignore[misc]
        self.sslv2 = sslv2  # type: ignore[misc]
        self.truncated = truncated  # type: ignore[misc]

    def ja3_full(self) -> str | None:
        """JA3 string (None for SSLv2 hellos, which JA3 does not define, and for truncated hellos)."""
        if self.sslv2 or self.truncated:
            return None
        return fp.ja3_string(self.version, self.ciphers, self.extensions, self.groups, self.point_formats)

    def ja4(self) -> str:
        """JA4 fingerprint (SSLv2 hellos: only their TLS-compatible cipher kinds count)."""
        ciphers = [c for c in self.ciphers if c <= 0xFFFF]
        return fp.ja4(
            self.version,
            self.supported_versions or None,
            ciphers,
            self.extensions,
            self.signature_algorithms,
            self.alpn[0] if self.alpn else None,
        )


@dataclass(frozen=True, slots=True, init=False)
class ServerHelloFields:
    """What a ServerHello says, before it is tied to a connection."""

    legacy_version: int
    """legacy_version."""
    random: bytes
    """server random."""
    session_id: bytes
    """Session id."""
    cipher: int
    """Chosen cipher."""
    extensions: tuple[int, ...]
    """Extension types in order."""
    selected_version: int | None
    """supported_versions value."""
    alpn: bytes | None
    """Chosen ALPN protocol."""
    key_share_group: int | None
    """key_share group."""
    psk: bool
    """pre_shared_key present."""
    problems: tuple[str, ...]
    """Extensions whose own contents were malformed."""
    sslv2: bool = False
    """SSLv2 SERVER-HELLO."""

    def __init__(
        self,
        legacy_version: int,
        random: bytes,
        session_id: bytes,
        cipher: int,
        extensions: tuple[int, ...],
        selected_version: int | None,
        alpn: bytes | None,
        key_share_group: int | None,
        psk: bool,
        problems: tuple[str, ...],
        sslv2: bool = False,
    ) -> None:
        self.legacy_version = legacy_version  # type: ignore[misc]
        self.random = random  # type: ignore[misc]
        self.session_id = session_id  # type: ignore[misc]
        self.cipher = cipher  # type: ignore[misc]
        self.extensions = extensions  # type: ignore[misc]
        self.selected_version = selected_version  # type: ignore[misc]
        self.alpn = alpn  # type: ignore[misc]
        self.key_share_group = key_share_group  # type: ignore[misc]
        self.psk = psk  # type: ignore[misc]
        self.problems = problems  # type: ignore[misc]
        self.sslv2 = sslv2  # type: ignore[misc]

    @property
    def version(self) -> int:
        """Negotiated version."""
        return self.selected_version if self.selected_version is not None else self.legacy_version

    @property
    def hello_retry_request(self) -> bool:
        """A TLS 1.3 HelloRetryRequest."""
        return self.random == HRR_RANDOM

    def ja3s_full(self) -> str:
        """JA3S string."""
        return fp.ja3s_string(self.legacy_version, self.cipher, self.extensions)

    def ja4s(self) -> str:
        """JA4S fingerprint."""
        return fp.ja4s(self.legacy_version, self.selected_version, self.cipher, self.extensions, self.alpn)


def _extensions(r: _Reader) -> list[tuple[int, _Reader]]:
    """The extension block (if any): [(type, body reader)]; the block's own framing must hold."""
    if r.left == 0:
        return []
    block = r.vector(2)
    out = []
    while block.left:
        etype = block.uint(2)
        out.append((etype, block.vector(2)))
    return out


def _sni(body: _Reader) -> str | None:
    names = body.vector(2)
    while names.left:
        kind = names.uint(1)
        name = names.vector(2).rest()
        if kind == SNI_HOST_NAME:
            return wire_text(name)
    return None


def _alpn(body: _Reader) -> tuple[bytes, ...]:
    protocols = body.vector(2)
    out: list[bytes] = []
    while protocols.left:
        proto = protocols.vector(1).rest()
        if len(out) < MAX_LIST_VALUES:
            out.append(proto[:MAX_NAME_CHARS])
    return tuple(out)


def _cap(values: tuple[int, ...]) -> tuple[int, ...]:
    return values[:MAX_LIST_VALUES]


def parse_client_hello(body: bytes) -> ClientHelloFields:
    """Parse a ClientHello message body (after the 4-byte handshake header)."""
    r = _Reader(body, "client_hello")
    version = r.uint(2)
    r.take(32)  # random
    session_id = r.vector(1).rest()
    ciphers = r.vector(2).u16_list()
    r.vector(1)  # compression methods
    return _client_hello_fields(version, session_id, ciphers, _extensions(r), truncated=False)


def parse_truncated_client_hello(head: bytes) -> ClientHelloFields:
    """What the first bytes of a ClientHello cut short hold (after its 4-byte handshake header).

    Fields are read in wire order until the cut: every cipher suite whose two bytes are there, and
    every extension that is whole (so an SNI counts only if its name is complete), as tshark shows
    the fields before "[Packet size limited during capture]". The version needs its 2 bytes."""
    r = _Reader(head, "client_hello")
    version = r.uint(2)
    session_id = b""
    ciphers: tuple[int, ...] = ()
    exts: list[tuple[int, _Reader]] = []
    try:
        r.take(32)  # random
        session_id = r.vector(1).rest()
        claimed = r.uint(2)
        ciphers = _Reader(r.take(min(claimed, r.left) & ~1), "client_hello").u16_list()
        if claimed > len(ciphers) * 2:
            return _client_hello_fields(version, session_id, ciphers, exts, truncated=True)
        r.vector(1)  # compression methods
        block_len = r.uint(2)
        block = _Reader(r.data, r.what, r.pos, min(r.end, r.pos + block_len))
        while block.left:
            etype = block.uint(2)
            exts.append((etype, block.vector(2)))
    except Malformed:
        pass  # the cut: keep what was read whole
    return _client_hello_fields(version, session_id, ciphers, exts, truncated=True)


def _client_hello_fields(
    version: int,
    session_id: bytes,
    ciphers: tuple[int, ...],
    exts: list[tuple[int, _Reader]],
    *,
    truncated: bool,
) -> ClientHelloFields:
    sni: str | None = None
    alpn: tuple[bytes, ...] = ()
    groups: tuple[int, ...] = ()
    formats: tuple[int, ...] = ()
    sigs: tuple[int, ...] = ()
    versions: tuple[int, ...] = ()
    ticket = psk = False
    problems = []
    for etype, ext in exts:
        try:
            if etype == EXT_SERVER_NAME:
                sni = _sni(ext) if ext.left else None
            elif etype == EXT_ALPN:
                alpn = _alpn(ext)
            elif etype == EXT_SUPPORTED_GROUPS:
                groups = _cap(ext.vector(2).u16_list())
            elif etype == EXT_EC_POINT_FORMATS:
                formats = _cap(tuple(ext.vector(1).rest()))
            elif etype == EXT_SIGNATURE_ALGORITHMS:
                sigs = _cap(ext.vector(2).u16_list())
            elif etype == EXT_SUPPORTED_VERSIONS:
                versions = _cap(ext.vector(1).u16_list())
            elif etype == EXT_SESSION_TICKET:
                ticket = ext.left > 0
            elif etype == EXT_PRE_SHARED_KEY:
                psk = True
        except Malformed as exc:
            problems.append(f"{exc.reason}:ext{etype}")
    return ClientHelloFields(
        version=version,
        session_id=session_id,
        ciphers=_cap(ciphers),
        extensions=_cap(tuple(e for e, _ in exts)),
        server_name=sni,
        alpn=alpn,
        groups=groups,
        point_formats=formats,
        signature_algorithms=sigs,
        supported_versions=versions,
        ticket=ticket,
        psk=psk,
        problems=tuple(problems),
        truncated=truncated,
    )


def parse_server_hello(body: bytes) -> ServerHelloFields:
    """Parse a ServerHello message body (after the 4-byte handshake header)."""
    r = _Reader(body, "server_hello")
    legacy = r.uint(2)
    random = r.take(32)
    session_id = r.vector(1).rest()
    cipher = r.uint(2)
    r.uint(1)  # compression method
    exts = _extensions(r)
    selected: int | None = None
    alpn: bytes | None = None
    group: int | None = None
    psk = False
    problems = []
    for etype, ext in exts:
        try:
            if etype == EXT_SUPPORTED_VERSIONS:
                selected = ext.uint(2)
            elif etype == EXT_ALPN:
                protocols = _alpn(ext)
                alpn = protocols[0] if protocols else None
            elif etype == EXT_KEY_SHARE:
                group = ext.uint(2)
            elif etype == EXT_PRE_SHARED_KEY:
                psk = True
        except Malformed as exc:
            problems.append(f"{exc.reason}:ext{etype}")
    return ServerHelloFields(
        legacy_version=legacy,
        random=random,
        session_id=session_id,
        cipher=cipher,
        extensions=_cap(tuple(e for e, _ in exts)),
        selected_version=selected,
        alpn=alpn,
        key_share_group=group,
        psk=psk,
        problems=tuple(problems),
    )


def parse_sslv2_client_hello(record: bytes) -> ClientHelloFields:
    """Parse an SSLv2 CLIENT-HELLO record body (after the 2-byte record header)."""
    r = _Reader(record, "sslv2_client_hello")
    if r.uint(1) != SSL2_CLIENT_HELLO:
        raise Malformed("tls.sslv2_not_client_hello")
    version = r.uint(2)
    cipher_len, session_len, challenge_len = r.uint(2), r.uint(2), r.uint(2)
    if cipher_len % 3:
        raise Malformed("tls.sslv2_client_hello_bad_length", f"cipher specs of {cipher_len} bytes")
    specs = r.take(cipher_len)
    session_id = r.take(session_len)
    r.take(challenge_len)
    ciphers = tuple(int.from_bytes(specs[i : i + 3], "big") for i in range(0, len(specs), 3))
    return ClientHelloFields(
        version=version,
        session_id=session_id,
        ciphers=_cap(ciphers),
        extensions=(),
        server_name=None,
        alpn=(),
        groups=(),
        point_formats=(),
        signature_algorithms=(),
        supported_versions=(),
        ticket=False,
        psk=False,
        problems=(),
        sslv2=True,
    )


def parse_sslv2_server_hello(record: bytes) -> ServerHelloFields:
    """Parse an SSLv2 SERVER-HELLO record body: version and first cipher kind."""
    r = _Reader(record, "sslv2_server_hello")
    if r.uint(1) != SSL2_SERVER_HELLO:
        raise Malformed("tls.sslv2_not_server_hello")
    r.uint(1)  # session id hit
    r.uint(1)  # certificate type
    version = r.uint(2)
    cert_len, cipher_len = r.uint(2), r.uint(2)
    r.uint(2)  # connection id length
    r.take(cert_len)
    specs = r.take(cipher_len)
    cipher = int.from_bytes(specs[:3], "big") if len(specs) >= 3 else 0
    return ServerHelloFields(
        legacy_version=version,
        random=b"",
        session_id=b"",
        cipher=cipher,
        extensions=(),
        selected_version=None,
        alpn=None,
        key_share_group=None,
        psk=False,
        problems=(),
        sslv2=True,
    )


def parse_certificate_list(body: bytes) -> tuple[list[bytes], int]:
    """DER certificates of a TLS <= 1.2 Certificate message (at most MAX_CERTS_PER_MESSAGE) and the total."""
    r = _Reader(body, "certificate")
    chain = r.vector(3)
    certs: list[bytes] = []
    total = 0
    while chain.left:
        der = chain.vector(3).rest()
        total += 1
        if len(certs) < MAX_CERTS_PER_MESSAGE:
            certs.append(der)
    return certs, total


def parse_ecdh_curve(body: bytes) -> int | None:
    """Named curve of an ECDHE ServerKeyExchange (RFC 8422 ServerECDHParams), None otherwise."""
    if len(body) >= 3 and body[0] == EC_NAMED_CURVE:
        return int.from_bytes(body[1:3], "big")
    return None


def parse_alerts(body: bytes) -> list[tuple[int, int]]:
    """(level, description) pairs of a plaintext alert record."""
    return [(body[i], body[i + 1]) for i in range(0, len(body) - 1, 2)]


interpreted_inits(ClientHelloFields, ServerHelloFields)
