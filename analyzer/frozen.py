"""Frozen dataclasses whose `__init__` is written out, so that mypyc compiles it.

A frozen dataclass's generated `__init__` is Python source that `dataclasses` writes at import time:
even in a module compiled with mypyc it runs interpreted, and it sets each field through
`object.__setattr__`. Measured on this project's build (mypyc, CPython 3.11), building a four-field
event costs about 860 ns that way and 80 ns with an `__init__` written in the class body, which mypyc
turns into native stores (they bypass the frozen `__setattr__`; the class stays frozen to everyone
else). Events and records built once per packet or per flow are declared so:

    @dataclass(frozen=True, slots=True, init=False)
    class Gap:
        size: int

        def __init__(self, size: int) -> None:
            self.size = size  # type: ignore[misc]  # a native store once compiled

Run as plain Python, those stores would meet the frozen `__setattr__`; `interpreted_inits` (called by
the module after its classes) then gives each class the `__init__` that `dataclasses` would have
generated, so the same sources run either way. tests/test_native_init.py checks that every such
`__init__` takes the fields in their declared order with their declared defaults.
"""

from __future__ import annotations

import dataclasses
import types
from typing import Any


def interpreted_inits(*classes: type) -> None:
    """Where these classes run interpreted, replace their written-out `__init__` by the generated one
    (which sets frozen fields through `object.__setattr__`); compiled classes are left alone."""
    for cls in classes:
        if not isinstance(cls.__dict__.get("__init__"), types.FunctionType):
            continue  # compiled by mypyc: the written-out __init__ stores natively
        namespace: dict[str, Any] = {"__annotations__": {f.name: f.type for f in dataclasses.fields(cls)}}
        for f in dataclasses.fields(cls):
            if f.default is not dataclasses.MISSING:
                namespace[f.name] = f.default
            elif f.default_factory is not dataclasses.MISSING:
                namespace[f.name] = dataclasses.field(default_factory=f.default_factory)
        generated: type = dataclasses.dataclass(frozen=True)(type(cls.__name__, (), namespace))
        setattr(cls, "__init__", generated.__dict__["__init__"])  # noqa: B010 - mypy: cannot assign to a method
