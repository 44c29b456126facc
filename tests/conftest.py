"""Shared pytest configuration: hypothesis profiles, the stale-build stop, and CI's no-skip rule."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.oracle import CI, NOT_APPLICABLE, missing, require

settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Stop early (1) when compiled code is older than its source: the package would run its pure
    modules (analyzer/compiled.py), and the suite would not test the build it claims to; (2) under
    CI=true, when anything a test needs is missing: one line per missing piece."""
    from analyzer.compiled import stale_sources

    stale = stale_sources()
    if stale:
        pytest.exit(
            f"{', '.join(stale)} changed since it was compiled: rebuild with `pip install -e .` "
            "(or delete analyzer/**/*.so to test the pure-Python code)",
            returncode=3,
        )
    lacking = missing()
    if CI and lacking:
        lines = "\n".join(f"CI=true and {req.what} is missing: {req.how}" for req in lacking)
        pytest.exit(lines, returncode=4)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """The `requires(...)` mark (tests/oracle.py `needs_tshark`, `needs_shared`)."""
    for mark in item.iter_markers(name="requires"):
        require(*mark.args)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under CI=true a skip is a failure (a green run must have checked everything), except the
    declared `not_applicable` one."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if not (CI and report.skipped) or hasattr(report, "wasxfail"):
        return
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    reason = reason.removeprefix("Skipped: ")
    if reason.startswith(NOT_APPLICABLE):
        return
    report.outcome = "failed"
    report.longrepr = f"CI=true forbids skipping: {reason}"
