"""`edgewise models`: what models are available here (packaged, cached, configured)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgewise.config import Settings
from edgewise.model.backend import ModelError
from edgewise.model.registry import (
    DEFAULT_FILE,
    DEFAULT_REPO,
    PACKAGED_NAME,
    hf_fetch,
    packaged_model,
    resolve_model,
)


def describe(path: Path, origin: str) -> dict[str, Any]:
    """Size, architecture, context length and FIM support, read from the GGUF header."""
    out: dict[str, Any] = {
        "origin": origin,
        "path": str(path),
        "name": path.name,
        "size_mb": round(path.stat().st_size / 1e6, 1),
    }
    try:
        from gguf import GGUFReader

        reader = GGUFReader(str(path))

        def value(key: str) -> Any:
            field = reader.fields.get(key)
            return None if field is None else field.contents()

        arch = value("general.architecture")
        out["architecture"] = arch
        out["name"] = value("general.name") or path.name
        out["context_length"] = value(f"{arch}.context_length")
        tokens = value("tokenizer.ggml.tokens") or []
        has_fim_id = value("tokenizer.ggml.fim_pre_token_id") is not None
        known = {"<|fim_prefix|>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>"}
        out["fim"] = bool(has_fim_id or known.intersection(tokens))
        out["chat_template"] = value("tokenizer.chat_template") is not None
    except Exception as exc:  # a broken file is listed with the reason
        out["error"] = f"unreadable GGUF: {exc}"
    return out


def list_models(settings: Settings) -> list[dict[str, Any]]:
    models: list[dict[str, Any]] = []
    if settings.model:
        try:
            models.append(
                describe(resolve_model(settings.model, allow_download=False).path, "configured")
            )
        except ModelError as exc:
            models.append(
                {"origin": "configured", "name": settings.model, "path": "", "error": str(exc)}
            )
    try:
        models.append(
            describe(hf_fetch(DEFAULT_REPO, DEFAULT_FILE, allow_download=False), "cached")
        )
    except ModelError:
        pass
    packaged = packaged_model()
    if packaged is not None:
        models.append({**describe(packaged, "packaged"), "name": PACKAGED_NAME})
    return models
