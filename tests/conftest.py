"""Shared pytest configuration."""

from pathlib import Path

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci")


def pytest_sessionstart(session: object) -> None:
    """Stop early when compiled code is older than its source (an edit not yet rebuilt): Python would
    import the stale extension module, and the suite would test code that is no longer there. The
    build writes the content hash of every source it compiled (setup.py)."""
    import hashlib
    import json

    import pytest

    root = Path(__file__).resolve().parents[1]
    manifest = root / "build" / "compiled-sources.json"
    if not any((root / "analyzer").rglob("*.so")) or not manifest.exists():
        return  # plain Python, or a build this check cannot see
    compiled = json.loads(manifest.read_text())
    stale = [
        path
        for path, digest in compiled.items()
        if hashlib.sha256((root / path).read_bytes()).hexdigest() != digest
    ]
    if stale:
        pytest.exit(
            f"{', '.join(stale)} changed since it was compiled: rebuild with `pip install -e .` "
            "(or delete analyzer/**/*.so to test the pure-Python code)",
            returncode=3,
        )
