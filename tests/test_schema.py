"""docs/summary.schema.json: a valid JSON Schema (2020-12) that every summary we print satisfies."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.oracle import REPO, SAMPLES, SHARED_PCAPS, analyze_json, needs_shared, sample_files, shared_files

SCHEMA_FILE = REPO / "docs" / "summary.schema.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def mixed() -> dict[str, Any]:
    return analyze_json(str(SAMPLES / "mixed.pcap"))


def errors(validator: jsonschema.Draft202012Validator, data: dict[str, Any]) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(data)]


@pytest.mark.parametrize("name", sample_files())
def test_every_sample_summary_is_valid(validator: jsonschema.Draft202012Validator, name: str) -> None:
    assert errors(validator, analyze_json(str(SAMPLES / name))) == []


@needs_shared
@pytest.mark.parametrize("rel", shared_files())
def test_every_shared_summary_is_valid(validator: jsonschema.Draft202012Validator, rel: str) -> None:
    assert errors(validator, analyze_json(str(SHARED_PCAPS / rel))) == []


def test_every_section_is_documented(
    validator: jsonschema.Draft202012Validator, mixed: dict[str, Any]
) -> None:
    documented = set(validator.schema["properties"])
    assert set(mixed) <= documented, sorted(set(mixed) - documented)


def test_every_property_has_a_description_or_reference(validator: jsonschema.Draft202012Validator) -> None:
    for name, prop in validator.schema["properties"].items():
        assert "description" in prop, name


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("schema",), "pcap-analyzer/summary/2"),
        (("capture", "packets"), "536"),
        (("capture", "packets"), -1),
        (("protocols", "eth"), 1.5),
        (("dns", "queries_by_qtype", "A"), None),
        (("flows", "top", 0, "id.orig_h"), 7),
        (("tls", "client_hello"), True),
    ],
)
def test_a_broken_summary_is_rejected(
    validator: jsonschema.Draft202012Validator, mixed: dict[str, Any], path: tuple[Any, ...], value: Any
) -> None:
    data = copy.deepcopy(mixed)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert errors(validator, data)


def test_a_missing_core_section_is_rejected(
    validator: jsonschema.Draft202012Validator, mixed: dict[str, Any]
) -> None:
    data = {k: v for k, v in mixed.items() if k != "capture"}
    assert any("capture" in e for e in errors(validator, data))


def test_schema_file_is_tidy() -> None:
    text = SCHEMA_FILE.read_text()
    assert text.endswith("}\n") and json.loads(text)["$schema"].endswith("/2020-12/schema")
    assert Path(SCHEMA_FILE).stat().st_size < 200_000
