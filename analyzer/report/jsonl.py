"""Events as JSON lines: one object per event, Zeek-style, streamed as the pipeline produces them.

Every line carries `_path` (the log it belongs to: conn, dns, dhcp, icmp, ndp, tls, x509, http, smtp,
pop3, imap, ftp, smb, weird, ...), `_type` (the event's class) and the event's fields under Zeek's
names (`ts`, `uid`, `id.orig_h`, `id.orig_p`, `id.resp_h`, `id.resp_p`, ...) as
`analyzer.records.to_jsonable` writes them. With flat keys every dot in a key becomes an underscore
(`id_orig_h`), as Elasticsearch wants. Nothing is collected: each event is written when it happens.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from analyzer.records import to_jsonable

EVENT_PATHS: dict[str, str] = {
    "analyzer.trackers.conn.ConnRecord": "conn",
    "analyzer.pipeline.Weird": "weird",
    "analyzer.dissectors.base.ExpectedConnection": "expected_conn",
    "analyzer.dissectors.dns.DnsMessageEvent": "dns",
    "analyzer.dissectors.dns.DnsWeird": "weird",
    "analyzer.dissectors.dhcp.DhcpMessage": "dhcp",
    "analyzer.dissectors.dhcp.Dhcpv6Message": "dhcpv6",
    "analyzer.dissectors.icmp.IcmpMessage": "icmp",
    "analyzer.dissectors.icmp.IcmpError": "icmp",
    "analyzer.dissectors.icmp.IcmpEcho": "icmp",
    "analyzer.dissectors.ndp.NdpMessage": "ndp",
    "analyzer.dissectors.tls.TlsClientHello": "tls",
    "analyzer.dissectors.tls.TlsServerHello": "tls",
    "analyzer.dissectors.tls.TlsAlert": "tls",
    "analyzer.dissectors.tls.TlsMalformedMessage": "tls",
    "analyzer.dissectors.tls.TlsHandshake": "tls",
    "analyzer.dissectors.x509.X509Record": "x509",
    "analyzer.dissectors.http.HttpRequest": "http",
    "analyzer.dissectors.http.HttpResponse": "http",
    "analyzer.dissectors.http.HttpUpgrade": "http",
    "analyzer.dissectors.http.HttpTransaction": "http",
    "analyzer.dissectors.smtp.SmtpCommand": "smtp",
    "analyzer.dissectors.smtp.SmtpReply": "smtp",
    "analyzer.dissectors.smtp.SmtpMessage": "smtp",
    "analyzer.dissectors.pop3.Pop3Command": "pop3",
    "analyzer.dissectors.pop3.Pop3Reply": "pop3",
    "analyzer.dissectors.pop3.Pop3Data": "pop3",
    "analyzer.dissectors.imap.ImapCommand": "imap",
    "analyzer.dissectors.imap.ImapResponse": "imap",
    "analyzer.dissectors.imap.ImapUntagged": "imap",
    "analyzer.dissectors.ftp.FtpCommand": "ftp",
    "analyzer.dissectors.ftp.FtpResponseCode": "ftp",
    "analyzer.dissectors.ftp.FtpReply": "ftp",
    "analyzer.dissectors.ftp.FtpRecord": "ftp",
    "analyzer.dissectors.ftp.FtpSessionEnd": "ftp",
    "analyzer.dissectors.ftp.FtpDataRecord": "ftp",
    "analyzer.dissectors.smb.SmbCommand": "smb",
    "analyzer.dissectors.smb.SmbDialects": "smb",
    "analyzer.dissectors.smb.SmbTransform": "smb",
    "analyzer.dissectors.smb.SmbWeird": "weird",
    "analyzer.dissectors.smb.SmbTreeRecord": "smb",
    "analyzer.dissectors.smb.SmbFileRecord": "smb",
    "analyzer.dissectors.smb.SmbSessionRecord": "smb",
}
"""Event class (module.QualName) -> `_path`. A class not listed here and not in PATH_FIELDS gets the
last part of its module's name (analyzer.dissectors.foo.Bar -> foo)."""
PATH_FIELDS: dict[str, str] = {
    "analyzer.dissectors.base.TlsUpgrade": "protocol",
    "analyzer.dissectors.textproto.MailSessionStart": "service",
    "analyzer.dissectors.textproto.AuthContinuation": "service",
    "analyzer.dissectors.textproto.MailOddLine": "service",
    "analyzer.dissectors.textproto.MailGap": "service",
}
"""Events shared by several protocols (class -> the field naming the protocol, used as `_path`)."""
FIELD_RENAMES: dict[str, dict[str, str]] = {
    "analyzer.pipeline.Weird": {"detail": "addl"},
    "analyzer.dissectors.dns.DnsWeird": {"reason": "name"},
    "analyzer.dissectors.smb.SmbWeird": {"reason": "name", "detail": "addl"},
}
"""Fields renamed to Zeek's names for the log they go to (weird.log calls them name and addl)."""
SECRET_FIELDS = frozenset({"password", "passwd", "pass", "secret", "credential", "credentials"})
"""Field names whose text is never written, whatever a dissector put there (defence in depth: the
dissectors already keep no password)."""
HIDDEN = "<hidden>"
"""What a secret field shows instead of its value."""


SESSION_PATHS = ("smtp", "pop3", "imap", "ftp")
"""`_path`s that PATH_FIELDS events take from their protocol field."""


def known_paths() -> list[str]:
    """Every `_path` an event can have, sorted (what `events --path` accepts)."""
    return sorted(set(EVENT_PATHS.values()) | set(SESSION_PATHS))


def class_key(cls: type) -> str:
    """`module.QualName` of an event class, the key of EVENT_PATHS."""
    return f"{cls.__module__}.{cls.__qualname__}"


def event_path(event: object) -> str:
    """The `_path` (log name) of one event."""
    key = class_key(type(event))
    path = EVENT_PATHS.get(key)
    if path is not None:
        return path
    via = PATH_FIELDS.get(key)
    if via is not None:
        value = getattr(event, via, None)
        if isinstance(value, str) and value:
            return value
    return type(event).__module__.rsplit(".", 1)[-1]


def _hide_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (HIDDEN if k.lower() in SECRET_FIELDS and isinstance(v, str) and v else _hide_secrets(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_hide_secrets(v) for v in value]
    return value


def _flatten_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k.replace(".", "_"): _flatten_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_flatten_keys(v) for v in value]
    return value


def event_record(event: object, flat_keys: bool = False) -> dict[str, Any]:
    """One event as a JSON-ready dict: `_path`, `_type`, then its fields (Zeek names)."""
    key = class_key(type(event))
    fields = to_jsonable(event)
    if not isinstance(fields, dict):
        fields = {"value": fields}
    renames = FIELD_RENAMES.get(key)
    if renames:
        fields = {renames.get(k, k): v for k, v in fields.items()}
    record: dict[str, Any] = {"_path": event_path(event), "_type": type(event).__name__}
    record.update(_hide_secrets(fields))
    return _flatten_keys(record) if flat_keys else record


class JsonLinesWriter:
    """An event sink for `Pipeline(event_sink=...)` writing each event as one JSON line."""

    def __init__(self, out: TextIO, flat_keys: bool = False, paths: Iterable[str] | None = None) -> None:
        self.out = out
        """Where lines go."""
        self.flat_keys = flat_keys
        """Dots in keys become underscores."""
        self.paths = frozenset(paths) if paths else None
        """Only events of these `_path`s are written (None: all)."""
        self.written = 0
        """Lines written so far."""

    def __call__(self, event: object) -> None:
        if self.paths is not None and event_path(event) not in self.paths:
            return
        record = event_record(event, self.flat_keys)
        self.out.write(json.dumps(record, separators=(",", ":")) + "\n")
        self.written += 1


def write_events(
    paths: list[str],
    out: TextIO,
    flat_keys: bool = False,
    only: Iterable[str] | None = None,
    on_file: Callable[[Any], None] | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> JsonLinesWriter:
    """Run the pipeline over capture files in order, writing every event to `out` as it comes;
    `on_file` gets each file's FileStats (with its error, if any); `progress` gets (bytes read,
    file size) now and then."""
    from analyzer.pipeline import Pipeline

    writer = JsonLinesWriter(out, flat_keys, only)
    pipe = Pipeline(event_sink=writer)
    for path in paths:
        stats = pipe.run_file(path, progress)
        if on_file is not None:
            on_file(stats)
    return writer
