"""Stripe's form encoding (`a[b][0][c]=v`) decoded into nested dicts and lists."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_PART = re.compile(r"\[([^\[\]]*)\]")


class FormError(ValueError):
    pass


def split_key(key: str) -> list[str]:
    """`line_items[0][price_data][currency]` -> `["line_items", "0", "price_data", "currency"]`."""
    head, bracket, rest = key.partition("[")
    if not head:
        raise FormError(f"Invalid parameter name: {key}")
    parts = [head]
    if bracket:
        rest = "[" + rest
        position = 0
        for match in _PART.finditer(rest):
            if match.start() != position:
                raise FormError(f"Invalid parameter name: {key}")
            parts.append(match.group(1))
            position = match.end()
        if position != len(rest):
            raise FormError(f"Invalid parameter name: {key}")
    return parts


def decode(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nested params; dicts whose keys are all indexes become lists (in index order)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = split_key(key)
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise FormError(f"Invalid parameter: {key} mixes a value and a hash")
            node = child
        if isinstance(node.get(parts[-1]), dict):
            raise FormError(f"Invalid parameter: {key} mixes a value and a hash")
        node[parts[-1]] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _listify(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        indexes = sorted(int(key) for key in converted)
        if indexes != list(range(len(indexes))):
            raise FormError("Invalid array: indexes must start at 0 and have no gaps")
        return [converted[str(i)] for i in indexes]
    return converted
