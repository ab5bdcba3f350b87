"""Building SelectField choices (WTForms 3.3 deprecates raw tuples)."""

from __future__ import annotations

from collections.abc import Iterable

from wtforms import SelectChoice


def choices(pairs: Iterable[tuple[object, object]]) -> list[SelectChoice]:
    """(value, label) pairs to SelectChoice; None becomes the empty value."""
    return [SelectChoice("" if v is None else str(v), str(label)) for v, label in pairs]


def optional_id(value: object) -> int | None:
    """SelectField coerce for an optional record id: blank (or WTForms' "None") is no choice.
    A value that is not a number raises ValueError, which WTForms reports as an invalid choice."""
    return int(value) if value not in (None, "", "None") else None  # type: ignore[call-overload]
