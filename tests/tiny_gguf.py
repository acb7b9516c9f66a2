"""A tiny random-weight ``llama`` GGUF that real llama.cpp loads and runs.

The model is noise, but everything around it is real: a byte-level BPE vocabulary (GPT-2
byte mapping plus a few hundred merges learnt from a built-in code sample, so code tokenizes
into multi-character tokens), FIM and ChatML control tokens with the GGUF keys llama.cpp reads
them from, a ChatML chat template, and weights scaled so greedy decoding wanders over many
tokens and the next-token distribution has clear peaks. Tests and smoke runs use it instead of
downloading a model. The file is a pure function of ``seed``: same seed, same bytes.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from pathlib import Path

import numpy as np
from gguf import GGUFWriter, Keys, LlamaFileType, TokenType

__all__ = ["MODEL_NAME", "SPECIAL_TOKENS", "CHAT_TEMPLATE", "write_tiny_gguf"]

MODEL_NAME = "edgewise-tiny-random"

# Control tokens, in id order, appended after the byte tokens and the merged tokens.
SPECIAL_TOKENS: tuple[str, ...] = (
    "<|endoftext|>",
    "<|fim_prefix|>",
    "<|fim_suffix|>",
    "<|fim_middle|>",
    "<|fim_pad|>",
    "<|file_sep|>",
    "<|im_start|>",
    "<|im_end|>",
)

CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# Architecture: small enough to write and load in milliseconds.
N_LAYER = 2
N_EMBD = 64
N_HEAD = 4
N_HEAD_KV = 2
N_FF = 128
N_CTX_TRAIN = 4096
N_MERGES = 320
RMS_EPS = 1e-5
ROPE_FREQ_BASE = 10000.0

# The sample the merges are learnt from. Words that should become single tokens are repeated.
_KEYWORDS = (
    "def return self import from class function const let var if else elif for while in "
    "not and or None True False null undefined this new async await yield pass break "
    "continue try except finally raise with as lambda print len range str int float bool "
    "list dict set tuple value result name path data args kwargs index count items key "
    "export default interface type string number boolean void public private static fn "
    "pub mut impl struct enum match use mod package func var err nil go main include "
    "std vector size_t char auto template typename namespace println"
)

_CODE_SAMPLE = '''
import os
import sys
from pathlib import Path
from typing import Any


class Counter:
    """Count things."""

    def __init__(self, start: int = 0) -> None:
        self.count = start
        self.items: list[str] = []

    def increment(self, step: int = 1) -> int:
        self.count += step
        return self.count

    def add(self, name: str) -> None:
        if name not in self.items:
            self.items.append(name)
        else:
            raise ValueError(f"duplicate: {name}")


def read_lines(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        return [line.rstrip("\\n") for line in handle]


def main(argv: list[str]) -> int:
    for index, value in enumerate(argv):
        print(index, value)
    result = {key: len(key) for key in argv if key}
    return 0 if result else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

export function add(a, b) {
    return a + b;
}

const items = [1, 2, 3].map((x) => x * 2);
let total = 0;
for (let i = 0; i < items.length; i++) {
    total += items[i];
}

export default class Store {
    constructor(state) {
        this.state = state;
    }

    async load(url) {
        const response = await fetch(url);
        if (!response.ok) {
            throw new Error("failed to load " + url);
        }
        return response.json();
    }
}

interface Point {
    x: number;
    y: number;
}

function distance(a: Point, b: Point): number {
    return Math.sqrt((a.x - b.x) ** 2 + (a.y - b.y) ** 2);
}

package main

import "fmt"

func main() {
    value, err := compute(42)
    if err != nil {
        return
    }
    fmt.Println(value)
}

pub struct Point {
    pub x: f64,
    pub y: f64,
}

impl Point {
    pub fn new(x: f64, y: f64) -> Self {
        Self { x, y }
    }
}

fn main() {
    let mut v: Vec<i32> = Vec::new();
    v.push(1);
    println!("{:?}", v);
}

#include <stdio.h>

int main(int argc, char **argv) {
    for (int i = 0; i < argc; i++) {
        printf("%s\\n", argv[i]);
    }
    return 0;
}
'''

# llama.cpp's "default" BPE pre-tokenizer first splits off runs of ASCII punctuation and
# symbols (all of them but the backtick), then applies the GPT-2 pattern to what is left.
# This is an ASCII approximation of both steps, used only to learn merges that llama.cpp
# will actually get to apply.
_PUNCT_RUN = re.compile(r"[!-/:-@\[-_{-~]+")
_GPT2_PIECE = re.compile(r"'(?:s|t|re|ve|m|ll|d)| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+")


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from the 256 byte values to printable unicode characters."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    codes = list(printable)
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            codes.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(printable, codes, strict=True)}


def _is_plain_byte(b: int) -> bool:
    return 0x20 <= b < 0x7F or b in (0x09, 0x0A)


def _pretokenize(text: str) -> list[str]:
    pieces: list[str] = []
    pos = 0
    for match in _PUNCT_RUN.finditer(text):
        pieces.extend(_GPT2_PIECE.findall(text[pos : match.start()]))
        pieces.append(match.group())
        pos = match.end()
    pieces.extend(_GPT2_PIECE.findall(text[pos:]))
    return [p for p in pieces if p]


def _learn_merges(text: str, n_merges: int) -> list[tuple[str, str]]:
    """Plain BPE training over byte-mapped pre-tokenized words; ties break by pair text."""
    byte_map = bytes_to_unicode()
    counts = Counter(piece.encode("utf-8") for piece in _pretokenize(text))
    words = [[byte_map[b] for b in piece] for piece in counts]
    freqs = list(counts.values())
    merges: list[tuple[str, str]] = []
    while len(merges) < n_merges:
        pairs: Counter[tuple[str, str]] = Counter()
        for word, freq in zip(words, freqs, strict=True):
            for i in range(len(word) - 1):
                pairs[word[i], word[i + 1]] += freq
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        left, right = best
        for word in words:
            i = 0
            while i < len(word) - 1:
                if word[i] == left and word[i + 1] == right:
                    word[i : i + 2] = [left + right]
                i += 1
    return merges


def _training_text() -> str:
    keywords = _KEYWORDS.split()
    # Each keyword with and without a leading space, and indentation runs, weighted up.
    boosted = " ".join(keywords) + "\n" + "".join(f"{k}\n" for k in keywords)
    indents = "".join(f"\n{' ' * n}x" for n in (4, 8, 12, 16))
    return _CODE_SAMPLE + boosted * 3 + indents * 6


@functools.cache
def _build_vocab() -> tuple[tuple[str, ...], tuple[int, ...], tuple[str, ...]]:
    """Token texts, token types and merges (``"left right"``) of the BPE vocabulary."""
    byte_map = bytes_to_unicode()
    tokens = [byte_map[b] for b in range(256)]
    seen = set(tokens)
    merges = _learn_merges(_training_text(), N_MERGES)
    for left, right in merges:
        joined = left + right
        if joined not in seen:
            seen.add(joined)
            tokens.append(joined)
    types = [int(TokenType.NORMAL)] * len(tokens)
    tokens.extend(SPECIAL_TOKENS)
    types.extend([int(TokenType.CONTROL)] * len(SPECIAL_TOKENS))
    return tuple(tokens), tuple(types), tuple(f"{left} {right}" for left, right in merges)


def write_tiny_gguf(path: Path, seed: int = 0, chat_template: bool = True) -> Path:
    """Write the tiny random model to ``path`` (parents created) and return ``path``;
    ``chat_template=False`` leaves the template out (a base or FIM-only model)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tokens, types, merges = _build_vocab()
    n_vocab = len(tokens)
    special = {text: tokens.index(text) for text in SPECIAL_TOKENS}
    head_dim = N_EMBD // N_HEAD

    writer = GGUFWriter(path, "llama")
    writer.add_name(MODEL_NAME)
    writer.add_description("Random weights for tests; its output is noise.")
    writer.add_file_type(LlamaFileType.ALL_F32)
    writer.add_vocab_size(n_vocab)
    writer.add_context_length(N_CTX_TRAIN)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYER)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD_KV)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(ROPE_FREQ_BASE)
    writer.add_layer_norm_rms_eps(RMS_EPS)

    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(special["<|endoftext|>"])
    writer.add_eos_token_id(special["<|endoftext|>"])
    writer.add_pad_token_id(special["<|fim_pad|>"])
    writer.add_add_bos_token(False)
    writer.add_add_eos_token(False)
    writer.add_uint32(Keys.Tokenizer.FIM_PRE_ID, special["<|fim_prefix|>"])
    writer.add_uint32(Keys.Tokenizer.FIM_SUF_ID, special["<|fim_suffix|>"])
    writer.add_uint32(Keys.Tokenizer.FIM_MID_ID, special["<|fim_middle|>"])
    writer.add_uint32(Keys.Tokenizer.FIM_PAD_ID, special["<|fim_pad|>"])
    writer.add_uint32(Keys.Tokenizer.FIM_SEP_ID, special["<|file_sep|>"])
    if chat_template:
        writer.add_chat_template(CHAT_TEMPLATE)

    rng = np.random.default_rng(seed)

    def normal(std: float, *shape: int) -> np.ndarray:
        return rng.normal(0.0, std, size=shape).astype(np.float32)

    # numpy shapes are (rows, cols) = (out, in); GGUF stores the reversed ggml order.
    # Big embedding and output scales give peaked, token-dependent next-token distributions.
    writer.add_tensor("token_embd.weight", normal(1.0, n_vocab, N_EMBD))
    for i in range(N_LAYER):
        blk = f"blk.{i}"
        writer.add_tensor(f"{blk}.attn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        writer.add_tensor(f"{blk}.attn_q.weight", normal(0.25, N_HEAD * head_dim, N_EMBD))
        writer.add_tensor(f"{blk}.attn_k.weight", normal(0.25, N_HEAD_KV * head_dim, N_EMBD))
        writer.add_tensor(f"{blk}.attn_v.weight", normal(0.25, N_HEAD_KV * head_dim, N_EMBD))
        writer.add_tensor(f"{blk}.attn_output.weight", normal(0.15, N_EMBD, N_HEAD * head_dim))
        writer.add_tensor(f"{blk}.ffn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        writer.add_tensor(f"{blk}.ffn_gate.weight", normal(0.2, N_FF, N_EMBD))
        writer.add_tensor(f"{blk}.ffn_up.weight", normal(0.2, N_FF, N_EMBD))
        writer.add_tensor(f"{blk}.ffn_down.weight", normal(0.15, N_EMBD, N_FF))
    writer.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    # Rows of tokens that would make the text noisy for tests (bytes that are not printable
    # ASCII, so partial UTF-8 sequences, and the control tokens, so end of generation) are
    # shrunk: their logits stay near zero while the rest spread wide (std ~4), so greedy
    # output is printable ASCII that runs to the token limit, and sampling rarely strays.
    output = normal(0.5, n_vocab, N_EMBD)
    byte_map = bytes_to_unicode()
    quiet = [tokens.index(byte_map[b]) for b in range(256) if not _is_plain_byte(b)]
    quiet += list(special.values())
    output[quiet] *= 0.05
    writer.add_tensor("output.weight", output)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
