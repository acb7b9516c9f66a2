"""The editors' copies of the settings, generated from schemas/config.schema.json.

The schema is the one definition of every server setting. From it come:

- ``editors/vscode/package.json``: ``contributes.configuration`` (one VS Code setting per
  leaf, ``edgewise.pricing.deviceWatts``; every keyword of the schema copied as is);
- ``editors/nvim/lua/edgewise/settings.lua``: the same definitions as a Lua table, for
  the plugin's defaults and :checkhealth;
- the settings table of the user docs (between the markers of ``schemas/docs.py``).

    python -m edgewise.schemas.generate           # rewrite the generated files
    python -m edgewise.schemas.generate --check   # exit 1 naming the files out of date

tests/unit/test_generated_settings.py fails when a generated file is out of date.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgewise.schemas import docs, load_schema

ROOT = Path(__file__).resolve().parents[3]
PACKAGE_JSON = Path("editors/vscode/package.json")
SETTINGS_LUA = Path("editors/nvim/lua/edgewise/settings.lua")
# the first of these that holds the settings markers gets the table
SETTINGS_DOCS = (Path("docs/settings.md"), Path("README.md"))
COMMAND = "python -m edgewise.schemas.generate"


@dataclass(frozen=True)
class Section:
    """One group of VS Code's settings editor: which top-level settings it shows."""

    title: str
    id: str | None
    keys: tuple[str, ...]  # top-level schema keys; () for every key no other section takes


VSCODE_SECTIONS = (
    Section("Edgewise", "edgewise", ()),
    Section("Edgewise: Pricing", "edgewise.pricing", ("pricing", "budget", "costComparison")),
    Section(
        "Shared inference server",
        None,
        (
            "remoteModel",
            "apiKeyEnv",
            "remoteTokenizer",
            "requestTimeoutMs",
            "maxParallelRequests",
            "remotePricing",
        ),
    ),
)


def leaves(props: dict[str, Any], prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every non-object setting as (dotted name, its schema), in schema order."""
    for key, prop in props.items():
        if prop.get("type") == "object":
            if prop.get("additionalProperties") is not False:
                raise ValueError(f"{prefix}{key}: an open object cannot be flattened")
            yield from leaves(prop["properties"], f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", prop


def vscode_configuration(schema: dict[str, Any], current: Any) -> list[dict[str, Any]]:
    """`contributes.configuration`: the schema's settings in VSCODE_SECTIONS, after the
    extension's own settings (keys not in the schema, e.g. `edgewise.serverPath`), which
    are kept from ``current`` in their section."""
    props: dict[str, Any] = schema["properties"]
    claimed = {key for section in VSCODE_SECTIONS for key in section.keys}
    schema_names = {name for name, _ in leaves(props, "edgewise.")}
    sections = current if isinstance(current, list) else [current] if current else []
    titles = {section.title for section in VSCODE_SECTIONS}
    own: dict[str, dict[str, Any]] = {}
    for section in sections:
        title = section.get("title", "")
        extension_props = {
            name: prop
            for name, prop in section.get("properties", {}).items()
            if name not in schema_names
        }
        # a section no longer generated hands its own settings to the first one
        own.setdefault(title if title in titles else VSCODE_SECTIONS[0].title, {}).update(
            extension_props
        )
    out: list[dict[str, Any]] = []
    for section in VSCODE_SECTIONS:
        keys = section.keys or tuple(key for key in props if key not in claimed)
        generated = dict(own.get(section.title, {}))
        for key in keys:
            for name, prop in leaves({key: props[key]}, "edgewise."):
                generated[name] = copy.deepcopy(prop)
        entry: dict[str, Any] = {"id": section.id} if section.id else {}
        out.append({**entry, "title": section.title, "properties": generated})
    return out


def package_json(schema: dict[str, Any], text: str) -> str:
    package = json.loads(text)
    contributes = package.setdefault("contributes", {})
    contributes["configuration"] = vscode_configuration(schema, contributes.get("configuration"))
    return json.dumps(package, indent=2, ensure_ascii=False) + "\n"


_LUA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LUA_KEYWORDS = frozenset(
    "and break do else elseif end false for function goto if in local nil not or repeat "
    "return then true until while".split()
)
# the Lua copy leaves out what only JSON Schema tooling reads
_NOT_IN_LUA = frozenset({"additionalProperties"})


def lua_string(text: str) -> str:
    """A Lua string literal, quoted as stylua (AutoPreferSingle) writes it."""
    quote = '"' if "'" in text and '"' not in text else "'"
    escaped = text.replace("\\", "\\\\").replace("\n", "\\n").replace(quote, "\\" + quote)
    return quote + escaped + quote


def lua_value(value: Any, indent: int) -> str:
    """A JSON value as a Lua literal, tables one entry a line (as stylua keeps them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return lua_string(value)
    pad = "  " * (indent + 1)
    if isinstance(value, list):
        if not value:
            return "{}"
        items = [lua_value(item, indent + 1) for item in value]
        one_line = "{ " + ", ".join(items) + " }"
        if len(one_line) + indent * 2 <= 80:
            return one_line
        return "{\n" + "".join(f"{pad}{item},\n" for item in items) + "  " * indent + "}"
    if isinstance(value, dict):
        entries = [(k, v) for k, v in value.items() if k not in _NOT_IN_LUA and v is not None]
        if not entries:
            return "{}"
        lines = []
        for key, item in entries:
            name = key if _LUA_NAME.match(key) and key not in _LUA_KEYWORDS else None
            lhs = name if name else f"[{lua_string(key)}]"
            lines.append(f"{pad}{lhs} = {lua_value(item, indent + 1)},\n")
        return "{\n" + "".join(lines) + "  " * indent + "}"
    raise TypeError(f"no Lua literal for {type(value).__name__}")


def settings_lua(schema: dict[str, Any]) -> str:
    return (
        f"-- Generated from schemas/config.schema.json by `{COMMAND}`: do not edit.\n"
        "--- The edgewise server's settings, as the schema defines them: type, default,\n"
        "--- bounds and meaning of each. The server validates the settings it gets and\n"
        "--- reports each wrong key; the plugin passes them through.\n"
        "---@type table<string, table>\n"
        f"return {lua_value(schema['properties'], 0)}\n"
    )


def _docs_target(root: Path) -> Path | None:
    for relative in SETTINGS_DOCS:
        path = root / relative
        if path.is_file() and docs.BEGIN in path.read_text("utf-8"):
            return relative
    return None


def generated(root: Path = ROOT) -> dict[Path, str]:
    """Each generated file (relative to ``root``) with the text it should have."""
    schema = load_schema("config")
    out: dict[Path, str] = {}
    rewrites: list[tuple[Path | None, Callable[[str], str]]] = [
        (PACKAGE_JSON, lambda text: package_json(schema, text)),
        (SETTINGS_LUA, lambda _text: settings_lua(schema)),
        (_docs_target(root), docs.rewrite),
    ]
    for relative, rewrite in rewrites:
        if relative is None:
            continue
        path = root / relative
        current = path.read_text("utf-8") if path.is_file() else ""
        out[relative] = rewrite(current)
    return out


def stale(root: Path = ROOT) -> list[Path]:
    """The generated files whose text is not what the schema gives."""
    return [
        relative
        for relative, text in generated(root).items()
        if not (root / relative).is_file() or (root / relative).read_text("utf-8") != text
    ]


def main(argv: list[str]) -> int:
    if argv not in ([], ["--check"]):
        print(f"usage: {COMMAND} [--check]", file=sys.stderr)
        return 2
    if argv == ["--check"]:
        out_of_date = stale()
        for relative in out_of_date:
            print(f"{relative} is out of date: run {COMMAND}", file=sys.stderr)
        return 1 if out_of_date else 0
    for relative, text in generated().items():
        path = ROOT / relative
        if not path.is_file() or path.read_text("utf-8") != text:
            path.write_text(text, "utf-8")
            print(f"wrote {relative}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
