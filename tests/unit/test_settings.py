"""Settings: one schema, one dataclass model, and bad values never stop the server."""

import dataclasses
import json
from typing import Any

from edgewise.config import Pricing, Settings, camel, parse_settings, settings_to_dict
from edgewise.schemas import load_schema


def _schema_defaults(schema):
    out = {}
    for key, prop in schema["properties"].items():
        if prop.get("type") == "object":
            out[key] = _schema_defaults(prop)
        else:
            out[key] = prop["default"]
    return out


def test_schema_and_dataclasses_agree_on_names_types_and_defaults():
    schema = load_schema("config")
    assert settings_to_dict(Settings()) == _schema_defaults(schema)
    assert set(schema["properties"]) == {camel(f.name) for f in dataclasses.fields(Settings)}
    pricing = schema["properties"]["pricing"]["properties"]
    assert set(pricing) == {camel(f.name) for f in dataclasses.fields(Pricing)}
    kinds = {"integer": int, "number": float, "string": str, "boolean": bool}

    def agree(instance: Any, props: dict, where: str) -> None:
        # every dataclass, nested ones included, key for key and type for type
        fields = {camel(f.name): f for f in dataclasses.fields(instance)}
        assert set(fields) == set(props), where
        for key, prop in props.items():
            field = fields[key]
            if prop["type"] == "object":
                nested = getattr(instance, field.name)
                assert field.type == type(nested).__name__, f"{where}{key}"
                agree(nested, prop["properties"], f"{where}{key}.")
            elif prop["type"] == "array":
                items = getattr(instance, field.name)
                assert str(field.type).startswith("tuple["), f"{where}{key}"
                if "properties" in prop["items"]:  # a tuple of dataclasses (costComparison.hosted)
                    assert items, f"{where}{key}"
                    for item in items:
                        agree(item, prop["items"]["properties"], f"{where}{key}[].")
            else:
                assert field.type == kinds[prop["type"]].__name__, f"{where}{key}"

    agree(Settings(), schema["properties"], "")


def test_vscode_shape_and_plain_dict_are_both_accepted():
    plain = parse_settings({"contextBudget": 512, "pricing": {"currency": "EUR"}})
    wrapped = parse_settings({"edgewise": {"contextBudget": 512, "pricing": {"currency": "EUR"}}})
    assert plain.settings == wrapped.settings
    assert plain.settings.context_budget == 512
    assert plain.settings.pricing.currency == "EUR"
    assert plain.problems == []


def test_invalid_values_are_reported_and_replaced_by_defaults_only_there():
    result = parse_settings(
        {"minConfidence": 7, "seed": 5, "pricing": {"deviceWatts": "lots"}, "typo": 1}
    )
    assert result.settings.min_confidence == Settings().min_confidence
    assert result.settings.pricing.device_watts == Pricing().device_watts
    assert result.settings.seed == 5  # the valid key survives
    text = " ".join(result.problems)
    assert "minConfidence" in text and "pricing.deviceWatts" in text and "typo" in text


def test_not_an_object_gives_defaults_and_a_problem():
    result = parse_settings(["nope"])
    assert result.settings == Settings()
    assert result.problems


def test_docs_settings_table_is_the_schema():
    from pathlib import Path

    from edgewise.schemas.docs import BEGIN, END, settings_markdown

    page = (Path(__file__).resolve().parents[2] / "docs" / "settings.md").read_text("utf-8")
    block = page[page.index(BEGIN) + len(BEGIN) : page.index(END)].strip()
    assert block == settings_markdown(), "run: python -m edgewise.schemas.docs docs/settings.md"


def test_readme_names_only_real_settings():
    """The README's short settings table names keys of the schema (docs/settings.md has
    them all)."""
    import re
    from pathlib import Path

    from edgewise.schemas.docs import _rows

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    section = readme.split("## Settings", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"^\| `([\w.*]+)`", section, re.MULTILINE))
    named |= set(re.findall(r"^\| `[\w.*]+`, `([\w.*]+)`", section, re.MULTILINE))
    keys = {key for key, _, _ in _rows(load_schema("config")["properties"])}
    assert named, "the README lists the settings most people change"
    for name in named:
        pattern = re.escape(name).replace(r"\*", r"\w+")
        assert any(re.fullmatch(pattern, key) for key in keys), name


def test_nan_and_infinity_are_refused_where_the_schema_cannot_see_them():
    # Python's JSON reader takes NaN and Infinity, and a bound is never violated by NaN
    raw = json.loads('{"temperature": NaN, "seed": 3, "pricing": {"deviceWatts": Infinity}}')
    result = parse_settings(raw)
    assert result.settings.temperature == Settings().temperature
    assert result.settings.pricing.device_watts == Pricing().device_watts
    assert result.settings.seed == 3
    text = " ".join(result.problems)
    assert "'temperature': not a finite number" in text
    assert "'pricing.deviceWatts': not a finite number" in text
