"""`edgewise context`: the prompt it prints is exactly what would be sent — its token
count is the tokenizer's count of its text and never over the budget — and bad input
(binary, undecodable, huge, broken, positions outside the file) is handled and noted."""

from __future__ import annotations

import json
from pathlib import Path

import llama_cpp
import pytest

from edgewise.cli import main
from edgewise.exit_codes import EXIT_OK, EXIT_USAGE

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "languages"
FILES = sorted(p.name for p in SAMPLES.iterdir())


@pytest.fixture(scope="module")
def vocab(tiny_model: Path) -> llama_cpp.Llama:
    return llama_cpp.Llama(str(tiny_model), vocab_only=True, verbose=False)


def count(vocab: llama_cpp.Llama, text: str) -> int:
    return len(vocab.tokenize(text.encode("utf-8"), add_bos=False, special=True))


def context(capsys, tiny_model: Path, path: Path, line: int, column: int, budget: int, *extra):
    code = main(
        [
            "context",
            str(path),
            "--line",
            str(line),
            "--column",
            str(column),
            "--budget",
            str(budget),
            "--tokenizer",
            str(tiny_model),
            "--json",
            *extra,
        ]
    )
    out = capsys.readouterr().out
    assert code == EXIT_OK, out
    return json.loads(out)


def middle_positions(path: Path) -> list[tuple[int, int]]:
    lines = path.read_text("utf-8").splitlines()
    picks = [len(lines) // 3, len(lines) // 2, (2 * len(lines)) // 3]
    return [(n + 1, max(len(lines[n]) // 2, 1)) for n in picks]


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("budget", [48, 160, 512])
def test_prompt_tokens_are_the_true_count_and_within_budget(
    capsys, tiny_model, vocab, name, budget
):
    path = SAMPLES / name
    for line, column in middle_positions(path):
        out = context(capsys, tiny_model, path, line, column, budget)
        assert out["prompt_tokens"] == count(vocab, out["text"])
        assert out["prompt_tokens"] <= budget
        assert sum(p["tokens"] for p in out["pieces"]) == out["prompt_tokens"]
        kinds = [p["kind"] for p in out["pieces"]]
        assert kinds[-1] == "line"  # the cursor line is always last
        assert out["assembly_ms"] >= 0


def test_a_larger_budget_brings_signatures_of_far_definitions(capsys, tiny_model, vocab, tmp_path):
    body = "\n".join(f"    total += step_{i % 3}(total)" for i in range(120))
    helpers = "\n\n".join(
        f'def step_{i}(value):\n    """Step {i} of the pipeline."""\n    return value + {i}'
        for i in range(3)
    )
    source = f"{helpers}\n\n\ndef run(total):\n{body}\n    return step_1(total)\n"
    path = tmp_path / "pipeline.py"
    path.write_text(source, "utf-8")
    last = source.splitlines().index("    return step_1(total)") + 1
    small = context(capsys, tiny_model, path, last, 5, 64)
    large = context(capsys, tiny_model, path, last, 5, 400)
    for out, budget in ((small, 64), (large, 400)):
        assert out["prompt_tokens"] == count(vocab, out["text"]) <= budget
    signatures = [p for p in large["pieces"] if p["kind"] == "signature"]
    assert {p["start_line"] for p in signatures} >= {1, 5, 9}  # step_0, step_1, step_2
    assert 'def step_1(value):\n    """Step 1 of the pipeline."""' in large["text"]
    assert "return value + 1" not in large["text"]  # bodies are stripped
    header = [p for p in large["pieces"] if p["kind"] == "scope_header"]
    assert header and large["text"].index("def run(total):") < large["text"].index("total +=")


def test_typing_along_a_line_keeps_everything_before_the_cursor_line(capsys, tiny_model, tmp_path):
    source = (SAMPLES / "sample.py").read_text("utf-8")
    lines = source.splitlines()
    row = lines.index("        return len(self.items)")
    typed = "        return len(self.items)"
    texts = []
    for column in range(9, len(typed) + 1):
        edited = lines[:row] + [typed[:column]] + lines[row + 1 :]
        path = tmp_path / "typing.py"
        path.write_text("\n".join(edited) + "\n", "utf-8")
        out = context(capsys, tiny_model, path, row + 1, column + 1, 200)
        texts.append(out["text"])
    middle = "<|fim_middle|>"
    before = {text[: text.index(middle)] for text in texts}
    assert len(before) == 1, "only the text after the middle marker changes while typing"


def test_binary_file_falls_back_to_a_window_with_a_note(capsys, tiny_model, vocab, tmp_path):
    path = tmp_path / "blob.py"
    path.write_bytes(b"def f():\n    return 1\x00\x01\x02\n" * 20)
    out = context(capsys, tiny_model, path, 10, 3, 128)
    assert any("binary" in note for note in out["notes"])
    assert {p["kind"] for p in out["pieces"]} <= {"prefix", "suffix", "marker", "line"}
    assert out["prompt_tokens"] == count(vocab, out["text"]) <= 128


def test_undecodable_file_falls_back_to_a_window_with_a_note(capsys, tiny_model, vocab, tmp_path):
    path = tmp_path / "latin1.py"
    path.write_bytes("def café():\n    return 'été'\n".encode("latin-1") * 10)
    out = context(capsys, tiny_model, path, 5, 2, 128)
    assert any("not UTF-8" in note for note in out["notes"])
    assert out["prompt_tokens"] == count(vocab, out["text"]) <= 128


def test_file_over_two_megabytes_falls_back_to_a_window_with_a_note(capsys, tiny_model, tmp_path):
    path = tmp_path / "huge.py"
    chunk = "def f(x):\n    return x * 2\n\n"
    path.write_text(chunk * (2 * 1024 * 1024 // len(chunk) + 10), "utf-8")
    out = context(capsys, tiny_model, path, 30_000, 5, 256)
    assert any("over 2 MB" in note for note in out["notes"])
    assert out["prompt_tokens"] <= 256
    assert "signature" not in {p["kind"] for p in out["pieces"]}


def test_unknown_language_falls_back_to_a_window_with_a_note(capsys, tiny_model, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("\n".join(f"line {i}" for i in range(50)), "utf-8")
    out = context(capsys, tiny_model, path, 25, 3, 64)
    assert any("unknown language" in note for note in out["notes"])
    assert out["prompt_tokens"] <= 64


def test_syntax_errors_everywhere_keep_scope_headers(capsys, tiny_model, vocab, tmp_path):
    source = (SAMPLES / "sample.py").read_text("utf-8")
    broken = source.replace("return ", "return @@ ").replace(" = ", " = = ")
    path = tmp_path / "broken.py"
    path.write_text(broken, "utf-8")
    row = broken.splitlines().index("        return @@ len(self.items)") + 1
    out = context(capsys, tiny_model, path, row, 9, 120)
    headers = [p for p in out["pieces"] if p["kind"] == "scope_header"]
    assert [h["start_line"] for h in headers] == [21]  # class Inventory, far above
    prefix = next(p for p in out["pieces"] if p["kind"] == "prefix")
    assert prefix["start_line"] <= 28  # def count: in the lines above the cursor
    assert "class Inventory(Store):\n" in out["text"] and "def count(self)" in out["text"]
    assert out["prompt_tokens"] == count(vocab, out["text"]) <= 120


def test_positions_past_the_end_are_clamped_and_noted(capsys, tiny_model, vocab):
    path = SAMPLES / "sample.go"
    lines = path.read_text("utf-8").splitlines()
    past_line = context(capsys, tiny_model, path, len(lines) + 50, 1, 128)
    assert any("past the end of the file" in n for n in past_line["notes"])
    past_column = context(capsys, tiny_model, path, 3, 500, 128)
    assert any("past the end of line 3" in n for n in past_column["notes"])
    for out in (past_line, past_column):
        assert out["prompt_tokens"] == count(vocab, out["text"]) <= 128


def test_a_cursor_line_longer_than_the_budget_is_cut_to_fit(capsys, tiny_model, vocab, tmp_path):
    path = tmp_path / "long.py"
    long_line = "    value = " + " + ".join(f"compute_{i}(x)" for i in range(60))
    path.write_text(f"def f(x):\n{long_line}\n    return value\n", "utf-8")
    out = context(capsys, tiny_model, path, 2, len(long_line) // 2, 24)
    assert out["prompt_tokens"] == count(vocab, out["text"]) <= 24
    assert any("too small for the cursor line" in n for n in out["notes"])
    cursor = len(long_line) // 2 - 1
    # the text at the cursor stays (its last token healed: the model writes it again)
    assert (out["text"] + out["heal_prefix"]).endswith(long_line[cursor - 3 : cursor])


def test_a_budget_too_small_for_the_markers_is_refused(capsys, tiny_model):
    args = ["context", str(SAMPLES / "sample.py"), "--line", "29", "--column", "20"]
    assert main([*args, "--budget", "2", "--tokenizer", str(tiny_model)]) == EXIT_USAGE
    assert "cannot hold even the prompt's markers" in capsys.readouterr().err


def test_line_and_column_are_one_based(capsys, tiny_model):
    code = main(["context", str(SAMPLES / "sample.py"), "--line", "0", "--column", "1"])
    assert code == EXIT_USAGE
    assert "1-based" in capsys.readouterr().err
