"""The editors' settings are generated from schemas/config.schema.json, and kept so.

`python -m edgewise.schemas.generate` writes VS Code's `contributes.configuration`
(editors/vscode/package.json), the Neovim plugin's settings table
(editors/nvim/lua/edgewise/settings.lua) and the docs' settings table; these tests fail
when one of them is out of date, and check that every keyword of the schema gets through.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from edgewise.schemas import generate, load_schema

SETTING = {
    "type": "string",
    "enum": ["fast", "slow"],
    "maxLength": 8,
    "minLength": 1,
    "pattern": "^[a-z]+$",
    "default": "fast",
    "description": "A 'quoted' \"setting\" with a \\ backslash.",
}
NUMBER = {"type": "integer", "minimum": 2, "maximum": 4096, "default": 16, "description": "n"}


def a_schema() -> dict:
    schema = json.loads(json.dumps(load_schema("config")))
    schema["properties"]["speed"] = SETTING
    schema["properties"]["pricing"]["properties"]["slots"] = NUMBER
    return schema


def test_generated_files_are_up_to_date():
    assert generate.stale() == [], f"run: {generate.COMMAND}"


def test_an_edited_generated_file_is_reported_and_regenerated(tmp_path: Path):
    for relative in (generate.PACKAGE_JSON, generate.SETTINGS_LUA, Path("README.md")):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(generate.ROOT / relative, tmp_path / relative)
    package = tmp_path / generate.PACKAGE_JSON
    package.write_text(package.read_text("utf-8").replace('"default": 64', '"default": 65'))
    lua = tmp_path / generate.SETTINGS_LUA
    lua.write_text(lua.read_text("utf-8").replace("default = 1024", "default = 1023"))
    assert generate.stale(tmp_path) == [generate.PACKAGE_JSON, generate.SETTINGS_LUA]
    for relative, text in generate.generated(tmp_path).items():
        (tmp_path / relative).write_text(text, "utf-8")
    assert generate.stale(tmp_path) == []
    assert json.loads(package.read_text("utf-8")) == json.loads(
        (generate.ROOT / generate.PACKAGE_JSON).read_text("utf-8")
    )


def test_vscode_gets_every_keyword_of_a_new_setting_in_its_section():
    sections = generate.vscode_configuration(
        a_schema(),
        [{"title": "Edgewise", "properties": {"edgewise.serverPath": {"type": "string"}}}],
    )
    by_title = {section["title"]: section["properties"] for section in sections}
    main = by_title["Edgewise"]
    assert main["edgewise.speed"] == SETTING
    assert by_title["Edgewise: Pricing"]["edgewise.pricing.slots"] == NUMBER
    # the extension's own setting (not a server setting) is kept, first
    assert next(iter(main)) == "edgewise.serverPath"
    assert "edgewise.remoteModel" in by_title["Shared inference server"]
    assert "edgewise.remoteModel" not in main
    # a renamed section loses none of the extension's own settings
    renamed = [{"title": "Old", "properties": {"edgewise.serverPath": {"type": "string"}}}]
    kept = generate.vscode_configuration(a_schema(), renamed)[0]["properties"]
    assert next(iter(kept)) == "edgewise.serverPath"


def test_lua_gets_every_keyword_of_a_new_setting():
    text = generate.settings_lua(a_schema())
    block = text[text.index("  speed = {") :]
    block = block[: block.index("\n  },") + 5]
    assert block == (
        "  speed = {\n"
        "    type = 'string',\n"
        "    enum = { 'fast', 'slow' },\n"
        "    maxLength = 8,\n"
        "    minLength = 1,\n"
        "    pattern = '^[a-z]+$',\n"
        "    default = 'fast',\n"
        "    description = 'A \\'quoted\\' \"setting\" with a \\\\ backslash.',\n"
        "  },"
    )
    assert "      slots = {\n        type = 'integer',\n        minimum = 2,\n" in text
    assert "maximum = 4096" in text and "additionalProperties" not in text


def test_lua_strings_are_quoted_as_stylua_writes_them():
    assert generate.lua_string("plain") == "'plain'"
    assert generate.lua_string("it's") == '"it\'s"'
    assert generate.lua_string('it\'s "x"') == "'it\\'s \"x\"'"
    assert generate.lua_string("a\nb") == "'a\\nb'"
