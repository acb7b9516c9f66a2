"""Imports are followed to the workspace files they name (Python and TypeScript), and the
signatures of the imported definitions the cursor's code uses go into the prompt."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import llama_cpp
import pytest

from edgewise.cli import main
from edgewise.context.documents import DocumentStore
from edgewise.context.languages import LanguageRegistry
from edgewise.context.resolve import resolve_module
from edgewise.context.workspace import WorkspaceIndex
from edgewise.exit_codes import EXIT_OK


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")


PYTHON_PROJECT = {
    "shop/__init__.py": "",
    "shop/models.py": (
        "class Item:\n"
        '    """A thing on a shelf."""\n\n'
        "    def __init__(self, name: str, price: float) -> None:\n"
        "        self.name = name\n"
        "        self.price = price\n\n\n"
        "def discount(item: Item, percent: int) -> float:\n"
        '    """Price after a discount."""\n'
        "    return item.price * (100 - percent) / 100\n"
    ),
    "shop/util/__init__.py": "from .money import *\n",
    "shop/util/money.py": (
        "def rounded(value: float, places: int = 2) -> float:\n"
        '    """Round like a till."""\n'
        "    return round(value, places)\n"
    ),
    "shop/cart.py": (
        "from .models import Item, discount\n"
        "from shop import util\n"
        "import shop.util.money as money\n\n\n"
        "def total(items):\n"
        "    amount = 0\n"
        "    for item in items:\n"
        "        amount += discount(item, 10)\n"
        "    return util.rounded(amount)\n\n\n"
        "def cheapest(items):\n"
        "    best = Item('none', 0.0)\n"
        "    \n"
        "    return money.rounded(best.price)\n"
    ),
}

TS_PROJECT = {
    "src/models.ts": (
        "/** A shopping cart. */\n"
        "export class Cart {\n"
        "  constructor(public owner: string) {}\n\n"
        "  add(sku: string, count: number): Cart {\n"
        "    return this;\n"
        "  }\n"
        "}\n\n"
        "/** Makes an empty cart for someone. */\n"
        "export function makeCart(owner: string): Cart {\n"
        "  return new Cart(owner);\n"
        "}\n"
    ),
    "src/index.ts": 'export * from "./models";\nexport { sum as total } from "./math.js";\n',
    "src/math.ts": (
        "/** Adds numbers. */\nexport function sum(values: number[]): number {\n"
        "  return values.reduce((a, b) => a + b, 0);\n}\n"
    ),
    "src/format.ts": "export default function format(value: number): string {\n  return `${value}`;\n}\n",
    "src/app.ts": (
        'import { makeCart, total } from "./index";\n'
        'import format from "./format";\n'
        'import * as models from "./models";\n\n'
        "export function checkout(owner: string, prices: number[]): string {\n"
        "  const cart = makeCart(owner);\n"
        "  const extra = new models.Cart(owner);\n"
        "  \n"
        "  return format(total(prices));\n"
        "}\n"
    ),
}


@pytest.fixture
def python_project(tmp_path: Path) -> Path:
    write(tmp_path, PYTHON_PROJECT)
    return tmp_path


@pytest.fixture
def ts_project(tmp_path: Path) -> Path:
    write(tmp_path, TS_PROJECT)
    return tmp_path


def test_python_modules_resolve_relative_and_package_local(python_project):
    cart = python_project / "shop" / "cart.py"
    roots = [python_project]
    assert resolve_module("python", ".models", cart, roots) == python_project / "shop/models.py"
    assert resolve_module("python", "shop", cart, roots) == python_project / "shop/__init__.py"
    assert (
        resolve_module("python", "shop.util.money", cart, roots)
        == python_project / "shop/util/money.py"
    )
    assert resolve_module("python", "os", cart, roots) is None  # not in the workspace
    assert resolve_module("python", "..models", cart, roots) is None  # outside the root


def test_node_modules_resolve_extensions_index_files_and_ts_for_js(ts_project):
    app = ts_project / "src" / "app.ts"
    roots = [ts_project]
    src = ts_project / "src"
    assert resolve_module("node", "./models", app, roots) == src / "models.ts"
    assert resolve_module("node", "./math.js", app, roots) == src / "math.ts"
    assert resolve_module("node", ".", app, roots) == src / "index.ts"
    assert resolve_module("node", "src/format", app, roots) == src / "format.ts"
    assert resolve_module("node", "react", app, roots) is None


def run_context(capsys, tiny_model: Path, project: Path, relative: str, line: int, column: int):
    code = main(
        [
            "context",
            str(project / relative),
            "--line",
            str(line),
            "--column",
            str(column),
            "--budget",
            "900",
            "--tokenizer",
            str(tiny_model),
            "--root",
            str(project),
            "--json",
        ]
    )
    out = capsys.readouterr().out
    assert code == EXIT_OK, out
    return json.loads(out)


def signature_sources(out: dict) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    for piece in out["pieces"]:
        if piece["kind"] == "signature":
            name = piece["source"].rsplit("/", 1)[-1]
            found.setdefault(name, set()).add(piece["start_line"])
    return found


def test_python_prompt_carries_signatures_from_imported_files(capsys, tiny_model, python_project):
    lines = PYTHON_PROJECT["shop/cart.py"].splitlines()
    out = run_context(
        capsys, tiny_model, python_project, "shop/cart.py", lines.index("    ") + 1, 5
    )
    found = signature_sources(out)
    assert found["models.py"] >= {1, 4, 9}  # class Item, Item.__init__, discount
    assert found["money.py"] == {1}  # util.rounded through `from .money import *`
    assert "def discount(item: Item, percent: int) -> float:" in out["text"]
    assert '"""Price after a discount."""' in out["text"]
    assert "return item.price" not in out["text"]
    assert "# shop/models.py\n" in out["text"]  # where the signatures come from
    count = len(
        llama_cpp.Llama(str(tiny_model), vocab_only=True, verbose=False).tokenize(
            out["text"].encode(), add_bos=False, special=True
        )
    )
    assert out["prompt_tokens"] == count <= 900


def test_typescript_prompt_follows_reexports_and_default_exports(capsys, tiny_model, ts_project):
    lines = TS_PROJECT["src/app.ts"].splitlines()
    out = run_context(capsys, tiny_model, ts_project, "src/app.ts", lines.index("  ") + 1, 3)
    found = signature_sources(out)
    assert 11 in found["models.ts"]  # makeCart, through `export * from "./models"`
    assert 2 in found["models.ts"]  # models.Cart, a namespace import
    assert found["math.ts"] == {2}  # total = sum, through `export { sum as total }`
    assert found["format.ts"] == {1}  # the default export
    assert "export function makeCart(owner: string): Cart {…}" in out["text"]
    assert "// Makes an empty cart for someone." in out["text"]


def test_workspace_reads_a_changed_file_again_and_prefers_the_open_copy(python_project):
    languages = LanguageRegistry()
    store = DocumentStore(languages)
    workspace = WorkspaceIndex(store, languages)
    workspace.set_roots([python_project])
    models = python_project / "shop" / "models.py"
    assert [f.row.meta.name for f in workspace.lookup(models, "discount")] == ["discount"]
    first = workspace.document(models)
    assert workspace.document(models) is first  # cached while unchanged
    models.write_text(models.read_text() + "\n\ndef refund(item: Item) -> float:\n    ...\n")
    later = time.time() + 5
    os.utime(models, (later, later))
    assert workspace.lookup(models, "refund"), "the changed file is read again"
    store.open(models.as_uri(), "def unsaved(x):\n    return x\n")
    assert workspace.lookup(models, "unsaved"), "the editor's unsaved copy wins"
    assert not workspace.lookup(models, "refund")
