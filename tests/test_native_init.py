"""Frozen dataclasses with a written-out `__init__` (analyzer/frozen.py) build what they declare.

Such a class lists its fields twice: once as the dataclass fields (what reports, JSON and pickling
read) and once as the parameters of its `__init__` (what mypyc compiles). Every one of them, found by
importing every module of the package, must take all its fields positionally in their declared order,
take the declared defaults, and stay frozen, compiled or not (the DNS model's classes are not frozen at
run time: their fields are `Final`, which mypy enforces).
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import pkgutil
from typing import Any

import pytest

import analyzer
from tests.oracle import REPO


def _written_out() -> list[type]:
    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(analyzer.__path__, "analyzer."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and dataclasses.is_dataclass(value)
                and value.__module__ == info.name
                and not value.__dataclass_params__.init  # type: ignore[attr-defined]
            ):
                found[f"{info.name}.{value.__qualname__}"] = value
    return [found[name] for name in sorted(found)]


CLASSES = _written_out()


def test_the_hot_events_are_written_out() -> None:
    names = {cls.__name__ for cls in CLASSES}
    assert {"Gap", "Skipped", "ConnRecord", "IcmpEcho", "TlsClientHello", "HttpTransaction"} <= names


def _declared_types(cls: type) -> dict[str, str]:
    """Field name -> its annotation as written in the source (a compiled class does not keep it)."""
    source = REPO / (cls.__module__.replace(".", "/") + ".py")  # compiled modules name the .so
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
            return {
                item.target.id: ast.unparse(item.annotation)
                for item in node.body
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
            }
    raise AssertionError(f"{cls.__name__} not found in {source}")


def _value(annotation: str, index: int, module: str = "") -> Any:
    """A value of the declared type, different for every field index (compiled code checks types)."""
    if annotation.startswith("Final[") and annotation.endswith("]"):
        annotation = annotation[len("Final[") : -1]  # immutable by mypy's Final, not at run time
    kind = next(part.strip() for part in annotation.split("|") if part.strip() != "None")
    for prefix, make in (
        ("float", lambda: index + 0.5),
        ("int", lambda: 1000 + index),
        ("str", lambda: f"field {index}"),
        ("bool", lambda: index % 2 == 0),
        ("bytes", lambda: bytes([index])),
        ("tuple", lambda: (index,)),
        ("list", lambda: [index]),
        ("dict", lambda: {index: index}),
    ):
        if kind.startswith(prefix):
            return make()
    named = vars(importlib.import_module(module)).get(kind) if module else None
    if isinstance(named, type) and dataclasses.is_dataclass(named):  # a record inside a record
        types = _declared_types(named)
        return named(*(_value(t, i, named.__module__) for i, t in enumerate(types.values())))
    if named is not None:  # a type alias of a union (RData): its first member
        return _value(str(named).split("|")[0].strip(), index, module)
    raise AssertionError(f"no test value for {annotation!r}: add one")


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_init_takes_every_field_in_order_with_its_default(cls: type) -> None:
    fields = dataclasses.fields(cls)
    assert all(f.init for f in fields)
    types = _declared_types(cls)
    assert list(types) == [f.name for f in fields]
    sentinels: list[Any] = [_value(kind, i, cls.__module__) for i, kind in enumerate(types.values())]
    built = cls(*sentinels)
    for f, sentinel in zip(fields, sentinels, strict=True):
        assert getattr(built, f.name) == sentinel, f.name
    required = [
        f for f in fields if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    assert fields[: len(required)] == tuple(required)  # no required field after a defaulted one
    partial = cls(*sentinels[: len(required)])
    for f in fields[len(required) :]:
        expected = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        assert getattr(partial, f.name) == expected, f.name
    if cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]  # else its fields are Final
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(built, fields[0].name, None)
    keyword = cls(**{f.name: s for f, s in zip(fields, sentinels, strict=True)})
    assert keyword == built
