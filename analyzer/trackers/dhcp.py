"""DHCP and DHCPv6 trackers: the names the registry, reports and tests import, from the modules that
hold them (dhcp4.py: DHCP lease lifecycles and its theory of operation; dhcp6.py: DHCPv6 bindings;
dhcp_common.py: limits, tables, lease events, findings and the bookkeeping both share)."""

from __future__ import annotations

from analyzer.trackers.dhcp4 import DhcpLeaseRecord, DhcpTracker
from analyzer.trackers.dhcp6 import Dhcpv6BindingRecord, Dhcpv6ClientRecord, Dhcpv6Tracker
from analyzer.trackers.dhcp_common import (
    ENDING_STATES,
    FINDING_KINDS,
    MAX_CLIENTS,
    MAX_FINDINGS,
    MAX_MSG_TYPES_PER_CLIENT,
    MAX_OFFERS_PER_XID,
    MAX_SERVER_LEASE_TIMES,
    MAX_SERVERS,
    MAX_TIMELINE_PER_CLIENT,
    MAX_UIDS_PER_CLIENT,
    MAX_XIDS_PER_CLIENT,
    STATES,
    TRANSACTION_TIMEOUT,
    Finding,
    LeaseEvent,
)

__all__ = [
    "ENDING_STATES",
    "FINDING_KINDS",
    "MAX_CLIENTS",
    "MAX_FINDINGS",
    "MAX_MSG_TYPES_PER_CLIENT",
    "MAX_OFFERS_PER_XID",
    "MAX_SERVERS",
    "MAX_SERVER_LEASE_TIMES",
    "MAX_TIMELINE_PER_CLIENT",
    "MAX_UIDS_PER_CLIENT",
    "MAX_XIDS_PER_CLIENT",
    "STATES",
    "TRANSACTION_TIMEOUT",
    "DhcpLeaseRecord",
    "DhcpTracker",
    "Dhcpv6BindingRecord",
    "Dhcpv6ClientRecord",
    "Dhcpv6Tracker",
    "Finding",
    "LeaseEvent",
]
