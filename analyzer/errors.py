"""The project's own error types.

`Malformed` is raised by every parser (decoder, datagram and stream dissectors) when bytes do not
follow the protocol. The pipeline is the one place that turns it into a counted "weird" entry keyed
by its reason. `CaptureError` is a file-level problem (not a capture, truncated, unreadable): its
message is the one line the CLI prints.
"""


class AnalyzerError(Exception):
    """Base class of every error this project raises on purpose."""


class Malformed(AnalyzerError):
    """Bytes that break a protocol's rules. `reason` is a short stable key such as `dns.name_loop`."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class CaptureError(AnalyzerError):
    """A capture file that cannot be read (further). `offset` is the byte offset of the problem."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
