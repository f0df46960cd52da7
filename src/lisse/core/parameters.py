"""Parameter dataclasses from plain dicts (parsed JSON), strictly."""

from __future__ import annotations

from dataclasses import fields


def parameters_from_dict(cls, values: dict, kind: str):
    """``cls(**values)`` for a parameters dataclass; an unknown key is an error, not ignored
    (a misspelt key would otherwise leave its parameter silently at the default)."""
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise KeyError(f"unknown {kind} parameters {unknown}; known: {sorted(known)}")
    return cls(**values)
