"""The VS Code extension's manifest (editors/vscode/package.json) agrees with the server.

Settings: every setting of schemas/config.schema.json is contributed as `edgewise.<key>`
with the same type, default, description and bounds, key for key; an object setting
(`pricing`) is contributed flattened, one VS Code setting per leaf
(`edgewise.pricing.deviceWatts`), which VS Code hands back nested under `pricing`. The one
extra setting allowed is the extension's own `edgewise.serverPath` (which executable to
start; the extension does not send it to the server). The contribution is generated
(python -m edgewise.schemas.generate); these tests check its result independently. Runs
without Node.js.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from edgewise.context.languages import SPECS
from edgewise.schemas import load_schema

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = json.loads((ROOT / "editors" / "vscode" / "package.json").read_text("utf-8"))
CLIENT_ONLY = {"edgewise.serverPath", "edgewise.trace.server"}


def contributed_settings() -> dict[str, dict[str, Any]]:
    configuration = PACKAGE["contributes"]["configuration"]
    sections = configuration if isinstance(configuration, list) else [configuration]
    out: dict[str, dict[str, Any]] = {}
    for section in sections:
        for key, prop in section["properties"].items():
            assert key not in out, f"{key} is contributed twice"
            out[key] = prop
    return out


def schema_leaves(schema: dict[str, Any], prefix: str = "edgewise") -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for key, prop in schema["properties"].items():
        if prop.get("type") == "object":
            assert prop.get("additionalProperties") is False, (
                f"{key}: an open object cannot be flattened"
            )
            out.update(schema_leaves(prop, f"{prefix}.{key}"))
        else:
            out[f"{prefix}.{key}"] = prop
    return out


def test_every_schema_setting_is_contributed_with_the_same_definition():
    contributed = contributed_settings()
    leaves = schema_leaves(load_schema("config"))
    assert set(contributed) - CLIENT_ONLY == set(leaves)
    for key, prop in leaves.items():
        # the whole definition, keyword for keyword: type, default, description, bounds
        assert contributed[key] == prop, key
        assert type(contributed[key]["default"]) is type(prop["default"]), key


def test_integers_stay_integers_and_numbers_keep_their_bounds():
    # `==` above treats 3 and 3.0 alike; VS Code's settings editor validates by "type"
    for key, prop in contributed_settings().items():
        if prop["type"] == "integer":
            assert isinstance(prop["default"], int) and not isinstance(prop["default"], bool), key
        for bound in ("minimum", "maximum"):
            if bound in prop:
                assert prop["type"] in ("integer", "number"), key


def test_the_extension_settings_stay_in_the_extension_and_only_a_user_sets_the_server():
    prop = contributed_settings()["edgewise.serverPath"]
    assert prop["type"] == "string" and prop["default"] == ""
    # a workspace must not choose which executable VS Code runs
    assert prop["scope"] == "machine"
    assert "not sent to the server" in prop["description"].lower()
    source = (ROOT / "editors" / "vscode" / "src" / "settings.ts").read_text("utf-8")
    assert re.search(r'CLIENT_ONLY_KEYS = new Set\(\["serverPath", "trace.server"\]\)', source)
    # the message log of vscode-languageclient (read by the client library itself)
    trace = contributed_settings()["edgewise.trace.server"]
    assert trace["enum"] == ["off", "messages", "verbose"] and trace["default"] == "off"


def test_untrusted_workspaces_cannot_redirect_the_model_or_the_backend():
    untrusted = PACKAGE["capabilities"]["untrustedWorkspaces"]
    assert untrusted["supported"] == "limited"
    assert {"edgewise.model", "edgewise.backend"} <= set(untrusted["restrictedConfigurations"])


def test_engine_and_types_are_at_most_vscode_1_100():
    def version(spec: str) -> tuple[int, ...]:
        return tuple(int(x) for x in re.sub(r"^[\^~>=]*", "", spec).split(".")[:2])

    assert version(PACKAGE["engines"]["vscode"]) <= (1, 100)
    assert version(PACKAGE["devDependencies"]["@types/vscode"]) <= (1, 100)


def test_activation_languages_are_languages_the_server_reads():
    server_ids = {spec.name for spec in SPECS} | {a for spec in SPECS for a in spec.aliases}
    activation = {
        event.removeprefix("onLanguage:")
        for event in PACKAGE["activationEvents"]
        if event.startswith("onLanguage:")
    }
    assert activation and activation <= server_ids
    # every language the server reads activates the extension (under one of its ids)
    for spec in SPECS:
        assert activation & {spec.name, *spec.aliases}, spec.name


def test_commands_do_not_shadow_the_server_commands():
    # vscode-languageclient registers the server's own commands (edgewise.inlineAccepted,
    # edgewise.reportApplied, edgewise.costReport, edgewise.lastPrompt, edgewise.rewrite)
    # as VS Code commands; the extension's commands must not take their names.
    from edgewise.lsp import server

    server_commands = {
        value
        for name, value in vars(server).items()
        if name.startswith("CMD_") and isinstance(value, str)
    } | {"edgewise.rewrite"}
    ours = {c["command"] for c in PACKAGE["contributes"]["commands"]}
    assert ours and not ours & server_commands
    titles = {
        c["command"]: f"{c['category']}: {c['title']}" for c in PACKAGE["contributes"]["commands"]
    }
    assert titles["edgewise.restartServer"] == "Edgewise: Restart Server"
    assert titles["edgewise.rewriteSelection"] == "Edgewise: Rewrite Selection…"
    assert titles["edgewise.showLastPrompt"] == "Edgewise: Show Last Prompt"
