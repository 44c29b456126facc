"""Mail sessions (SMTP, POP3, IMAP): counters with tshark parity, session rows, SMTP findings.

Theory of operation
-------------------
A session opens on `MailSessionStart` (the dissector's first bytes) and is keyed by the flow uid.
Every later event of that flow updates it; it closes when the flow's `ConnRecord` arrives (also
when the dissector was detached by Malformed), when idle for SESSION_IDLE_TIMEOUT of packet time,
when the table is full (the oldest goes first), or at `finish()`. Counters are updated for every
event whether or not its session is still open.

SMTP rows follow Zeek's smtp.log: one row per mail transaction (MAIL FROM up to the reply after the
message, or up to RSET / the next MAIL / the end of the connection), numbered by `trans_depth`, with
the connection's facts (helo, tls, auth mechanism, extensions) repeated; a connection without any
transaction still gets one row. POP3 and IMAP get one row per connection.

SMTP findings: each 4xx (transient: the server defers, the sender is expected to retry later) or
5xx (permanent rejection) reply is grouped by (kind, sender, server), so a sender retrying against a
greylisting server is one finding with its attempt count, sessions, codes and time span.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from analyzer.dissectors.base import TlsUpgrade
from analyzer.dissectors.imap import ImapCommand, ImapResponse, ImapUntagged
from analyzer.dissectors.pop3 import Pop3Command, Pop3Data, Pop3Reply
from analyzer.dissectors.smtp import DATA_END, REPLY_CLASSES, SmtpCommand, SmtpMessage, SmtpReply
from analyzer.dissectors.textproto import (
    AuthContinuation,
    MailGap,
    MailOddLine,
    MailSessionStart,
)
from analyzer.records import to_jsonable
from analyzer.trackers.conn import ConnRecord

# --- limits -------------------------------------------------------------------------------------

MAX_OPEN_SESSIONS = 4096
"""Mail connections followed at once; a busy relay has a few hundred. Beyond it the oldest session
is closed early (its counters are kept)."""
SESSION_IDLE_TIMEOUT = 900.0
"""Seconds of packet time after its last event when a session is closed anyway: longer than the flow
table's 5-minute TCP idle timeout, so normally the flow's end closes it first."""
MAX_ROWS = 1000
"""Session rows kept per protocol in the JSON; the rest are counted in `sessions_dropped`."""
MAX_KEYS = 256
"""Distinct command words counted per protocol; others go to "(other)" so garbage cannot grow it."""
MAX_ITEMS = 32
"""Items kept per list in a row (recipients, replies, mailboxes) and per finding (uids, recipients)."""
MAX_FINDING_GROUPS = 500
"""SMTP finding groups kept; replies for further groups are counted in `findings_dropped`."""
MAX_GROUP_UIDS = 256
"""Distinct sessions remembered per finding group to count sessions; beyond it each new one counts."""

# --- tables -------------------------------------------------------------------------------------

FINDING_KINDS: dict[str, str] = {
    "4": "transient",
    "5": "permanent",
}
"""First digit of an SMTP reply code -> finding kind (RFC 5321 4.2.1: 4yz transient negative, the
sender should retry; 5yz permanent negative, it should not)."""
LOGIN_COMMANDS = {"pop3": frozenset({"PASS", "APOP", "AUTH"}), "imap": frozenset({"LOGIN", "AUTHENTICATE"})}
"""Commands whose answer tells whether the user logged in."""
SERVICES = ("smtp", "pop3", "imap")


def _bump(counter: Counter[str], key: str, n: int = 1) -> None:
    """Count under `key`, or under "(other)" once MAX_KEYS distinct keys exist."""
    if key not in counter and len(counter) >= MAX_KEYS:
        key = "(other)"
    counter[key] += n


def _jsonable(rec: Any) -> dict[str, Any]:
    """A record as JSON, with `from_` spelled `from` as in Zeek."""
    row: dict[str, Any] = to_jsonable(rec)
    return {("from" if k == "from_" else k): v for k, v in row.items()}


# --- records ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SmtpTransactionRecord:
    """One SMTP transaction, Zeek smtp.log style."""

    ts: float
    """Start of the connection (Zeek: time of the transaction's first command)."""
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
    trans_depth: int
    """Transaction number within the connection (1, 2, ...)."""
    helo: str | None
    """HELO/EHLO argument."""
    mailfrom: str | None
    """MAIL FROM address."""
    rcptto: tuple[str, ...]
    """RCPT TO addresses (bounded)."""
    rcpt_count: int
    """RCPT commands sent in the transaction."""
    date: str | None
    """Date header."""
    from_: str | None
    """From header (JSON: from)."""
    to: tuple[str, ...]
    """To header addresses."""
    cc: tuple[str, ...]
    """Cc header addresses."""
    reply_to: str | None
    """Reply-To header."""
    msg_id: str | None
    """Message-ID header."""
    in_reply_to: str | None
    """In-Reply-To header."""
    subject: str | None
    """Subject header."""
    x_originating_ip: str | None
    """X-Originating-IP header."""
    user_agent: str | None
    """User-Agent or X-Mailer header."""
    path: tuple[str, ...]
    """Transit path: server, client, then the addresses of the Received headers."""
    last_reply: str | None
    """Last reply of the transaction ("250 2.0.0 Ok: queued as ...")."""
    tls: bool
    """The connection was upgraded with STARTTLS (nothing after it is visible)."""
    greeting: str | None
    """Server greeting text."""
    extensions: tuple[str, ...]
    """ESMTP extensions offered in the EHLO reply."""
    auth_mechanism: str | None
    """SASL mechanism of AUTH (the credentials are never kept)."""
    auth_success: bool | None
    """AUTH accepted (235) or refused (4xx/5xx); None without AUTH."""
    msg_size: int | None
    """Message size in bytes (dot-unstuffed), when a message was sent."""
    msg_complete: bool | None
    """The message's end was seen."""
    replies: tuple[str, ...]
    """"COMMAND code" of each reply in the transaction (bounded), e.g. "RCPT 451"."""


@dataclass(frozen=True, slots=True)
class Pop3SessionRecord:
    """One POP3 connection."""

    ts: float
    """Start of the session."""
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
    greeting: str | None
    """Server greeting text."""
    user: str | None
    """USER or APOP name."""
    clear_text_password: bool
    """A PASS command was sent in clear text (its value is never kept)."""
    apop: bool
    """APOP (digest) login used."""
    auth_mechanism: str | None
    """AUTH SASL mechanism."""
    login: str | None
    """success or failure of the last login command; None without one."""
    tls: bool
    """Upgraded with STLS."""
    commands: int
    """Commands sent."""
    retr: int
    """Messages retrieved (RETR answers completed)."""
    retr_bytes: int
    """Bytes of the retrieved messages (dot-unstuffed)."""
    dele: int
    """DELE commands: POP3 removes mail from the server only on DELE (then QUIT)."""
    deleted: tuple[str, ...]
    """Message numbers marked for deletion (bounded)."""
    ok: int
    """+OK answers."""
    err: int
    """-ERR answers."""
    last_reply: str | None
    """Last status line ("-ERR [AUTH] Authentication failed.")."""


@dataclass(frozen=True, slots=True)
class ImapSessionRecord:
    """One IMAP connection."""

    ts: float
    """Start of the session."""
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
    greeting: str | None
    """Server greeting text (untagged OK/PREAUTH/BYE)."""
    user: str | None
    """LOGIN user name (the password is never kept)."""
    auth_mechanism: str | None
    """AUTHENTICATE SASL mechanism."""
    login: str | None
    """success or failure of the last LOGIN/AUTHENTICATE; None without one."""
    tls: bool
    """Upgraded with STARTTLS."""
    commands: int
    """Tagged commands sent."""
    mailboxes: tuple[str, ...]
    """Mailboxes selected or examined (bounded, in order, no repeats)."""
    fetches: int
    """FETCH commands (UID FETCH included)."""
    literal_bytes: int
    """Bytes of literals in both directions (message bodies, APPENDs)."""
    ok: int
    """Tagged OK statuses."""
    no: int
    """Tagged NO statuses."""
    bad: int
    """Tagged BAD statuses."""
    untagged: int
    """Untagged responses."""
    last_status: str | None
    """Last tagged status ("a3 OK [READ-WRITE] Select completed.")."""


@dataclass(frozen=True, slots=True)
class SmtpFinding:
    """Replies of one kind (transient/permanent) from one server to one sender, grouped."""

    kind: str
    """transient (4xx) or permanent (5xx)."""
    sender: str | None
    """MAIL FROM address of the transaction (None before any MAIL)."""
    server: str
    """Server address."""
    attempts: int
    """Replies of this kind in the group."""
    sessions: int
    """Distinct connections they came in."""
    codes: dict[str, int]
    """Reply code -> count."""
    commands: dict[str, int]
    """Command refused -> count."""
    recipients: tuple[str, ...]
    """Recipients of the refused RCPTs (bounded)."""
    first_ts: float
    """First such reply."""
    last_ts: float
    """Last such reply."""
    uids: tuple[str, ...]
    """Connection uids (bounded)."""
    example: str
    """The first reply ("451 4.7.1 ... Greylisted, try again later")."""


# --- live state ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Session:
    """A mail connection being followed."""

    start: MailSessionStart
    last_ts: float
    tls: bool = False
    greeting: str | None = None
    user: str | None = None
    auth_mechanism: str | None = None
    login: str | None = None
    commands: int = 0
    # SMTP
    helo: str | None = None
    extensions: tuple[str, ...] = ()
    auth_success: bool | None = None
    depth: int = 0
    rows: int = 0
    txn_open: bool = False
    mailfrom: str | None = None
    rcptto: list[str] = field(default_factory=list)
    rcpt_count: int = 0
    message: SmtpMessage | None = None
    replies: list[str] = field(default_factory=list)
    last_reply: str | None = None
    # POP3
    clear_text_password: bool = False
    apop: bool = False
    retr: int = 0
    retr_bytes: int = 0
    dele: int = 0
    deleted: list[str] = field(default_factory=list)
    ok: int = 0
    err: int = 0
    last_command: str | None = None
    # IMAP
    mailboxes: list[str] = field(default_factory=list)
    fetches: int = 0
    literal_bytes: int = 0
    no: int = 0
    bad: int = 0
    untagged: int = 0


@dataclass(slots=True)
class _Group:
    """An SMTP finding group being built."""

    first_ts: float
    last_ts: float
    example: str
    attempts: int = 0
    uid_set: set[str] = field(default_factory=set)
    extra_sessions: int = 0
    uids: list[str] = field(default_factory=list)
    codes: Counter[str] = field(default_factory=Counter)
    commands: Counter[str] = field(default_factory=Counter)
    recipients: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Stats:
    """Counters of one protocol."""

    sessions: int = 0
    commands: Counter[str] = field(default_factory=Counter)
    replies: Counter[str] = field(default_factory=Counter)
    pipelined_commands: Counter[str] = field(default_factory=Counter)
    pipelined_replies: Counter[str] = field(default_factory=Counter)
    untagged: Counter[str] = field(default_factory=Counter)
    tls_upgrades: int = 0
    sasl_lines: int = 0
    gaps: int = 0
    odd_lines: Counter[str] = field(default_factory=Counter)
    rows: list[dict[str, Any]] = field(default_factory=list)
    rows_dropped: int = 0


class MailTracker:
    """SMTP, POP3 and IMAP sections from the mail dissectors' events."""

    EVENT_TYPES: ClassVar[tuple[type, ...]] = (
        MailSessionStart,
        TlsUpgrade,
        AuthContinuation,
        MailOddLine,
        MailGap,
        SmtpCommand,
        SmtpReply,
        SmtpMessage,
        Pop3Command,
        Pop3Reply,
        Pop3Data,
        ImapCommand,
        ImapResponse,
        ImapUntagged,
        ConnRecord,
    )

    def __init__(self) -> None:
        self.sessions: dict[str, _Session] = {}
        self.stats = {name: _Stats() for name in SERVICES}
        self.smtp_reply_classes: Counter[str] = Counter()
        self.messages = 0
        self.message_bytes = 0
        self.pop3_retr = 0
        self.pop3_retr_bytes = 0
        self.pop3_dele = 0
        self.pop3_clear_text_passwords = 0
        self.imap_literal_bytes = 0
        self.groups: dict[tuple[str, str | None, str], _Group] = {}
        self.findings_dropped = 0
        self._handlers: dict[type, Callable[[Any], None]] = {
            MailSessionStart: self._start,
            TlsUpgrade: self._tls,
            AuthContinuation: self._sasl,
            MailOddLine: self._odd,
            MailGap: self._gap,
            SmtpCommand: self._smtp_command,
            SmtpReply: self._smtp_reply,
            SmtpMessage: self._smtp_message,
            Pop3Command: self._pop3_command,
            Pop3Reply: self._pop3_reply,
            Pop3Data: self._pop3_data,
            ImapCommand: self._imap_command,
            ImapResponse: self._imap_response,
            ImapUntagged: self._imap_untagged,
            ConnRecord: self._conn,
        }

    # -- contract --

    def handle(self, event: Any) -> None:
        self._handlers[type(event)](event)

    def expire(self, now: float) -> None:
        idle = [s for s in self.sessions.values() if now - s.last_ts > SESSION_IDLE_TIMEOUT]
        for s in idle:
            self._close(s)

    def finish(self) -> dict[str, Any]:
        for s in list(self.sessions.values()):
            self._close(s)
        for stats in self.stats.values():  # by start, not by close order (which --jobs may change)
            stats.rows.sort(key=lambda r: (r["ts"], r["uid"], r.get("trans_depth", 0)))
        out: dict[str, Any] = {}
        smtp, pop3, imap = (self.stats[n] for n in SERVICES)
        if smtp.sessions or smtp.commands or smtp.replies:
            out["smtp"] = {
                "sessions_seen": smtp.sessions,
                "commands": _sorted(smtp.commands),
                "reply_codes": _sorted(smtp.replies),
                "reply_classes": _sorted(self.smtp_reply_classes),
                "tls_upgrades": smtp.tls_upgrades,
                "auth_continuations": smtp.sasl_lines,
                "messages": self.messages,
                "message_bytes": self.message_bytes,
                "sessions": smtp.rows,
                "sessions_dropped": smtp.rows_dropped,
                "findings": self._findings(),
                "findings_dropped": self.findings_dropped,
                "odd_lines": _sorted(smtp.odd_lines),
                "gaps": smtp.gaps,
            }
        if pop3.sessions or pop3.commands or pop3.replies:
            out["pop3"] = {
                "sessions_seen": pop3.sessions,
                "commands": _sorted(pop3.commands),
                "responses": _sorted(pop3.replies),
                "pipelined_commands": _sorted(pop3.pipelined_commands),
                "pipelined_responses": _sorted(pop3.pipelined_replies),
                "tls_upgrades": pop3.tls_upgrades,
                "sasl_lines": pop3.sasl_lines,
                "clear_text_passwords": self.pop3_clear_text_passwords,
                "retr": {"count": self.pop3_retr, "bytes": self.pop3_retr_bytes},
                "dele": self.pop3_dele,
                "sessions": pop3.rows,
                "sessions_dropped": pop3.rows_dropped,
                "odd_lines": _sorted(pop3.odd_lines),
                "gaps": pop3.gaps,
            }
        if imap.sessions or imap.commands or imap.replies:
            out["imap"] = {
                "sessions_seen": imap.sessions,
                "commands": _sorted(imap.commands),
                "response_status": _sorted(imap.replies),
                "untagged": _sorted(imap.untagged),
                "tls_upgrades": imap.tls_upgrades,
                "sasl_lines": imap.sasl_lines,
                "literal_bytes": self.imap_literal_bytes,
                "sessions": imap.rows,
                "sessions_dropped": imap.rows_dropped,
                "odd_lines": _sorted(imap.odd_lines),
                "gaps": imap.gaps,
            }
        return out

    # -- shared events --

    def _session(self, uid: str, ts: float) -> _Session | None:
        s = self.sessions.get(uid)
        if s is not None:
            s.last_ts = max(s.last_ts, ts)
        return s

    def _start(self, ev: MailSessionStart) -> None:
        self.stats[ev.service].sessions += 1
        if ev.uid in self.sessions:
            return
        if len(self.sessions) >= MAX_OPEN_SESSIONS:
            self._close(next(iter(self.sessions.values())))
        self.sessions[ev.uid] = _Session(ev, ev.ts)

    def _tls(self, ev: TlsUpgrade) -> None:
        if ev.protocol not in self.stats:
            return  # an FTP AUTH TLS: not a mail session
        self.stats[ev.protocol].tls_upgrades += 1
        s = self._session(ev.uid, ev.ts)
        if s is not None:
            s.tls = True

    def _sasl(self, ev: AuthContinuation) -> None:
        self.stats[ev.service].sasl_lines += 1
        self._session(ev.uid, ev.ts)

    def _odd(self, ev: MailOddLine) -> None:
        self.stats[ev.service].odd_lines[ev.reason] += 1

    def _gap(self, ev: MailGap) -> None:
        self.stats[ev.service].gaps += 1

    def _conn(self, rec: ConnRecord) -> None:
        s = self.sessions.get(rec.uid)
        if s is not None:
            self._close(s)

    def _close(self, s: _Session) -> None:
        self.sessions.pop(s.start.uid, None)
        service = s.start.service
        if service == "smtp":
            if s.txn_open or not s.rows:
                self._smtp_row(s)
            return
        rec: Pop3SessionRecord | ImapSessionRecord
        st = s.start
        ids = (st.ts, st.uid, st.orig_h, st.orig_p, st.resp_h, st.resp_p)
        if service == "pop3":
            rec = Pop3SessionRecord(
                *ids,
                greeting=s.greeting,
                user=s.user,
                clear_text_password=s.clear_text_password,
                apop=s.apop,
                auth_mechanism=s.auth_mechanism,
                login=s.login,
                tls=s.tls,
                commands=s.commands,
                retr=s.retr,
                retr_bytes=s.retr_bytes,
                dele=s.dele,
                deleted=tuple(s.deleted),
                ok=s.ok,
                err=s.err,
                last_reply=s.last_reply,
            )
        else:
            rec = ImapSessionRecord(
                *ids,
                greeting=s.greeting,
                user=s.user,
                auth_mechanism=s.auth_mechanism,
                login=s.login,
                tls=s.tls,
                commands=s.commands,
                mailboxes=tuple(s.mailboxes),
                fetches=s.fetches,
                literal_bytes=s.literal_bytes,
                ok=s.ok,
                no=s.no,
                bad=s.bad,
                untagged=s.untagged,
                last_status=s.last_reply,
            )
        self._add_row(service, rec)

    def _add_row(self, service: str, rec: Any) -> None:
        stats = self.stats[service]
        if len(stats.rows) < MAX_ROWS:
            stats.rows.append(_jsonable(rec))
        else:
            stats.rows_dropped += 1

    # -- SMTP --

    def _smtp_command(self, ev: SmtpCommand) -> None:
        _bump(self.stats["smtp"].commands, ev.command)
        s = self._session(ev.uid, ev.ts)
        if s is None:
            return
        s.commands += 1
        s.last_command = ev.command
        verb = ev.command
        if verb in ("HELO", "EHLO", "LHLO"):
            s.helo = ev.arg
        elif verb == "AUTH":
            s.auth_mechanism = ev.arg
        elif verb == "MAIL":
            if s.txn_open:
                self._smtp_row(s)
            s.txn_open = True
            s.mailfrom = ev.arg
        elif verb == "RCPT":
            s.txn_open = True
            s.rcpt_count += 1
            if ev.arg is not None and len(s.rcptto) < MAX_ITEMS:
                s.rcptto.append(ev.arg)
        elif verb == "RSET" and s.txn_open:
            self._smtp_row(s)

    def _smtp_reply(self, ev: SmtpReply) -> None:
        if ev.code is not None and ev.code_lines:
            _bump(self.stats["smtp"].replies, str(ev.code), ev.code_lines)
        self.smtp_reply_classes[REPLY_CLASSES.get(str(ev.code)[:1], "unknown")] += 1
        s = self._session(ev.uid, ev.ts)
        if s is None:
            return
        code = "---" if ev.code is None else str(ev.code)
        s.last_reply = f"{code} {ev.text}".rstrip()
        if len(s.replies) < MAX_ITEMS:
            s.replies.append(f"{ev.command or 'greeting'} {code}")
        if ev.command is None and s.greeting is None:
            s.greeting = ev.text
        if ev.extensions:
            s.extensions = ev.extensions
        if ev.command == "AUTH" and ev.code is not None and ev.code != 334:
            s.auth_success = 200 <= ev.code < 300
        kind = FINDING_KINDS.get(code[:1])
        if kind is not None:
            self._finding(kind, s, ev)
        if ev.command == DATA_END or (ev.command == "BDAT" and s.message is not None and s.message.complete):
            self._smtp_row(s)

    def _smtp_message(self, ev: SmtpMessage) -> None:
        self.messages += 1
        self.message_bytes += ev.size
        s = self._session(ev.uid, ev.ts)
        if s is not None:
            s.message = ev
            s.txn_open = True

    def _smtp_row(self, s: _Session) -> None:
        st = s.start
        msg = s.message
        h: dict[str, Any] = dict(msg.headers) if msg is not None else {}
        s.depth += 1
        path = (st.resp_h, st.orig_h, *msg.received_path) if msg is not None else ()
        rec = SmtpTransactionRecord(
            st.ts,
            st.uid,
            st.orig_h,
            st.orig_p,
            st.resp_h,
            st.resp_p,
            trans_depth=s.depth,
            helo=s.helo,
            mailfrom=s.mailfrom,
            rcptto=tuple(s.rcptto),
            rcpt_count=s.rcpt_count,
            date=h.get("date"),
            from_=h.get("from"),
            to=h.get("to", ()),
            cc=h.get("cc", ()),
            reply_to=h.get("reply_to"),
            msg_id=h.get("msg_id"),
            in_reply_to=h.get("in_reply_to"),
            subject=h.get("subject"),
            x_originating_ip=h.get("x_originating_ip"),
            user_agent=h.get("user_agent"),
            path=path,
            last_reply=s.last_reply,
            tls=s.tls,
            greeting=s.greeting,
            extensions=s.extensions,
            auth_mechanism=s.auth_mechanism,
            auth_success=s.auth_success,
            msg_size=msg.size if msg is not None else None,
            msg_complete=msg.complete if msg is not None else None,
            replies=tuple(s.replies),
        )
        self._add_row("smtp", rec)
        s.rows += 1
        s.txn_open = False
        s.mailfrom = None
        s.rcptto = []
        s.rcpt_count = 0
        s.message = None
        s.replies = []

    def _finding(self, kind: str, s: _Session, ev: SmtpReply) -> None:
        key = (kind, s.mailfrom, s.start.resp_h)
        group = self.groups.get(key)
        if group is None:
            if len(self.groups) >= MAX_FINDING_GROUPS:
                self.findings_dropped += 1
                return
            group = self.groups[key] = _Group(ev.ts, ev.ts, f"{ev.code} {ev.text}".rstrip())
        group.attempts += 1
        group.first_ts = min(group.first_ts, ev.ts)
        group.last_ts = max(group.last_ts, ev.ts)
        group.codes[str(ev.code)] += 1
        group.commands[ev.command or "greeting"] += 1
        if ev.uid not in group.uid_set:
            if len(group.uid_set) < MAX_GROUP_UIDS:
                group.uid_set.add(ev.uid)
            else:
                group.extra_sessions += 1
            if len(group.uids) < MAX_ITEMS:
                group.uids.append(ev.uid)
        if ev.command == "RCPT" and s.rcptto and len(group.recipients) < MAX_ITEMS:
            group.recipients.append(s.rcptto[-1])

    def _findings(self) -> list[dict[str, Any]]:
        rows = []
        for (kind, sender, server), g in sorted(self.groups.items(), key=lambda kv: kv[1].first_ts):
            finding = SmtpFinding(
                kind=kind,
                sender=sender,
                server=server,
                attempts=g.attempts,
                sessions=len(g.uid_set) + g.extra_sessions,
                codes=_sorted(g.codes),
                commands=_sorted(g.commands),
                recipients=tuple(g.recipients),
                first_ts=g.first_ts,
                last_ts=g.last_ts,
                uids=tuple(g.uids),
                example=g.example,
            )
            rows.append(_jsonable(finding))
        return rows

    # -- POP3 --

    def _pop3_command(self, ev: Pop3Command) -> None:
        stats = self.stats["pop3"]
        _bump(stats.commands if ev.counted else stats.pipelined_commands, ev.command)
        upper = ev.command.upper()
        if upper == "PASS":
            self.pop3_clear_text_passwords += 1
        elif upper == "DELE":
            self.pop3_dele += 1
        s = self._session(ev.uid, ev.ts)
        if s is None:
            return
        s.commands += 1
        s.last_command = upper
        if upper == "USER" or upper == "APOP":
            s.user = ev.arg
            s.apop = s.apop or upper == "APOP"
        elif upper == "PASS":
            s.clear_text_password = True
        elif upper == "AUTH" and ev.arg:
            s.auth_mechanism = ev.arg
        elif upper == "DELE":
            s.dele += 1
            if ev.arg is not None and len(s.deleted) < MAX_ITEMS:
                s.deleted.append(ev.arg)

    def _pop3_reply(self, ev: Pop3Reply) -> None:
        stats = self.stats["pop3"]
        _bump(stats.replies if ev.counted else stats.pipelined_replies, ev.indicator)
        s = self._session(ev.uid, ev.ts)
        if s is None:
            return
        ok = ev.indicator == "+OK"
        s.ok += ok
        s.err += not ok
        s.last_reply = f"{ev.indicator} {ev.text}".rstrip()
        if ev.command is None and s.greeting is None:
            s.greeting = ev.text
        if ev.command in LOGIN_COMMANDS["pop3"]:
            s.login = "success" if ok else "failure"

    def _pop3_data(self, ev: Pop3Data) -> None:
        if ev.command != "RETR":
            return
        self.pop3_retr += 1
        self.pop3_retr_bytes += ev.size
        s = self._session(ev.uid, ev.ts)
        if s is not None:
            s.retr += 1
            s.retr_bytes += ev.size

    # -- IMAP --

    def _imap_command(self, ev: ImapCommand) -> None:
        _bump(self.stats["imap"].commands, ev.command)
        self.imap_literal_bytes += ev.literal_bytes
        s = self._session(ev.uid, ev.ts)
        if s is None:
            return
        s.commands += 1
        s.literal_bytes += ev.literal_bytes
        upper = ev.command.upper()
        if upper == "LOGIN":
            s.user = ev.arg
        elif upper == "AUTHENTICATE":
            s.auth_mechanism = ev.arg
        elif upper in ("SELECT", "EXAMINE") and ev.arg is not None:
            if ev.arg not in s.mailboxes and len(s.mailboxes) < MAX_ITEMS:
                s.mailboxes.append(ev.arg)
        elif upper == "FETCH":
            s.fetches += 1

    def _imap_response(self, ev: ImapResponse) -> None:
        _bump(self.stats["imap"].replies, ev.status)
        s = self._session(ev.uid, ev.ts)
        if s is None:
            return
        status = ev.status.upper()
        s.ok += status == "OK"
        s.no += status == "NO"
        s.bad += status == "BAD"
        s.last_reply = f"{ev.tag} {ev.status} {ev.text}".rstrip()
        if ev.command in LOGIN_COMMANDS["imap"]:
            s.login = "success" if status == "OK" else "failure"

    def _imap_untagged(self, ev: ImapUntagged) -> None:
        _bump(self.stats["imap"].untagged, ev.keyword)
        self.imap_literal_bytes += ev.literal_bytes
        s = self._session(ev.uid, ev.ts)
        if s is None:
            return
        s.untagged += 1
        s.literal_bytes += ev.literal_bytes
        if s.greeting is None and s.commands == 0 and ev.text is not None:
            s.greeting = ev.text


def _sorted(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items()))
