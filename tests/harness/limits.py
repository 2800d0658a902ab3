"""Discord's server-side limits that discord.py does not check before sending.

A bot that breaks one of these works in unit tests and fails in production with
`400 Bad Request (error code: 50035): Invalid Form Body`; the fake backends raise the same error.
Only the common limits are modelled (messages, embeds, classic components, modals, autocomplete).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tests.harness.errors import http_error

JsonDict = dict[str, Any]
COMPONENTS_V2 = 1 << 15


class _Problems:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def length(self, path: str, value: Any, maximum: int, minimum: int = 0) -> None:
        if value is None:
            if minimum:
                self.items.append((path, "This field is required"))
            return
        size = len(str(value))
        if size > maximum:
            self.items.append((path, f"Must be {maximum} or fewer in length."))
        elif size < minimum:
            self.items.append((path, f"Must be between {minimum} and {maximum} in length."))

    def count(self, path: str, values: Iterable[Any], maximum: int, minimum: int = 0) -> None:
        size = len(list(values))
        if not minimum <= size <= maximum:
            self.items.append((path, f"Must be between {minimum} and {maximum} in length."))

    def raise_if_any(self) -> None:
        if not self.items:
            return
        errors: JsonDict = {}
        for path, message in self.items:
            node = errors
            for key in path.split("."):
                node = node.setdefault(key, {})
            node.setdefault("_errors", []).append({"code": "BASE_TYPE_BAD_LENGTH",
                                                   "message": message})
        raise http_error(400, 50035, "Invalid Form Body", errors)


def _embeds(p: _Problems, embeds: list[JsonDict]) -> None:
    p.count("embeds", embeds, 10)
    total = 0
    for i, e in enumerate(embeds):
        at = f"embeds.{i}"
        p.length(f"{at}.title", e.get("title"), 256)
        p.length(f"{at}.description", e.get("description"), 4096)
        p.length(f"{at}.footer.text", (e.get("footer") or {}).get("text"), 2048)
        p.length(f"{at}.author.name", (e.get("author") or {}).get("name"), 256)
        fields = e.get("fields", [])
        p.count(f"{at}.fields", fields, 25)
        for j, f in enumerate(fields):
            p.length(f"{at}.fields.{j}.name", f.get("name") or None, 256, 1)
            p.length(f"{at}.fields.{j}.value", f.get("value") or None, 1024, 1)
        total += sum(len(str(x or "")) for x in (
            e.get("title"), e.get("description"), (e.get("footer") or {}).get("text"),
            (e.get("author") or {}).get("name"),
            *(f.get("name") for f in fields), *(f.get("value") for f in fields)))
    if total > 6000:
        p.items.append(("embeds", "Embed size exceeds maximum size of 6000"))


def _select(p: _Problems, at: str, c: JsonDict) -> None:
    p.length(f"{at}.placeholder", c.get("placeholder"), 150)
    if c.get("type") == 3:
        options = c.get("options", [])
        p.count(f"{at}.options", options, 25, 1)
        for k, o in enumerate(options):
            p.length(f"{at}.options.{k}.label", o.get("label"), 100, 1)
            p.length(f"{at}.options.{k}.value", o.get("value"), 100, 1)
            p.length(f"{at}.options.{k}.description", o.get("description"), 100)
    if not 0 <= c.get("min_values", 1) <= c.get("max_values", 1) <= 25:
        p.items.append((f"{at}.max_values", "min_values/max_values out of range"))


def _components(p: _Problems, rows: list[JsonDict], seen: set[str]) -> None:
    p.count("components", rows, 5)
    for i, row in enumerate(rows):
        children = row.get("components", [])
        p.count(f"components.{i}.components", children, 5, 1)
        for j, c in enumerate(children):
            at = f"components.{i}.components.{j}"
            custom_id = c.get("custom_id")
            if custom_id is not None:
                p.length(f"{at}.custom_id", custom_id, 100, 1)
                if custom_id in seen:
                    p.items.append((f"{at}.custom_id", "Component custom id cannot be duplicated"))
                seen.add(custom_id)
            if c.get("type") == 2:
                p.length(f"{at}.label", c.get("label"), 80)
                if c.get("style") == 5 and not c.get("url"):
                    p.items.append((f"{at}.url", "This field is required"))
            elif c.get("type") in (3, 5, 6, 7, 8):
                if len(children) > 1:
                    p.items.append((f"{at}", "A select must be alone in its action row"))
                _select(p, at, c)


def check_message(payload: JsonDict, *, files: int = 0, edit: bool = False) -> None:
    """Raise Discord's 400 for a message create/edit body that Discord would refuse."""
    p = _Problems()
    p.length("content", payload.get("content"), 2000)
    _embeds(p, payload.get("embeds") or [])
    if not int(payload.get("flags") or 0) & COMPONENTS_V2:
        _components(p, payload.get("components") or [], set())
    p.raise_if_any()
    empty = not (payload.get("content") or payload.get("embeds") or payload.get("components")
                 or files or payload.get("sticker_ids") or payload.get("poll"))
    if empty and not edit:
        raise http_error(400, 50006, "Cannot send an empty message")


def check_modal(data: JsonDict) -> None:
    p = _Problems()
    p.length("data.title", data.get("title"), 45, 1)
    p.length("data.custom_id", data.get("custom_id"), 100, 1)
    rows = data.get("components", [])
    p.count("data.components", rows, 5, 1)
    for i, row in enumerate(rows):
        at = f"data.components.{i}"
        if row.get("type") == 18:  # Label wrapping one component
            p.length(f"{at}.label", row.get("label"), 45, 1)
            p.length(f"{at}.description", row.get("description"), 100)
            inner = [row.get("component") or {}]
        else:
            inner = row.get("components", [])
        for j, c in enumerate(inner):
            cat = f"{at}.components.{j}"
            p.length(f"{cat}.custom_id", c.get("custom_id"), 100, 1 if c.get("type") == 4 else 0)
            if c.get("type") == 4:
                p.length(f"{cat}.label", c.get("label"), 45)
                p.length(f"{cat}.placeholder", c.get("placeholder"), 100)
                p.length(f"{cat}.value", c.get("value"), 4000)
            elif c.get("type") in (3, 5, 6, 7, 8):
                _select(p, cat, c)
    p.raise_if_any()


def check_choices(choices: list[JsonDict]) -> None:
    p = _Problems()
    p.count("data.choices", choices, 25)
    for i, c in enumerate(choices):
        p.length(f"data.choices.{i}.name", c.get("name"), 100, 1)
        if isinstance(c.get("value"), str):
            p.length(f"data.choices.{i}.value", c.get("value"), 100)
    p.raise_if_any()
