"""Capture sources: classic pcap, pcapng and gzip-compressed files, streamed as `Frame`s."""

from analyzer.capture.frame import Frame
from analyzer.capture.linktypes import LINKTYPE_NAMES, linktype_name
from analyzer.capture.reader import (
    MAX_BLOCK_LEN,
    MAX_CAPLEN,
    MAX_GZIP_EXPANSION_RATIO,
    CaptureInfo,
    CaptureReader,
    InterfaceInfo,
    Record,
    open_capture,
)

__all__ = [
    "LINKTYPE_NAMES",
    "MAX_BLOCK_LEN",
    "MAX_CAPLEN",
    "MAX_GZIP_EXPANSION_RATIO",
    "CaptureInfo",
    "CaptureReader",
    "Frame",
    "InterfaceInfo",
    "Record",
    "linktype_name",
    "open_capture",
]
