"""Trackers: state that spans packets or flows, turning events into records and counters."""
