"""The workspace folders the editor opened: one list, read by everything that asks
"inside the workspace?".

The edit guard (where edits may go), the context engine (where the files imports name
are looked for) and the actions' view of the workspace (where a test file may be
written) all read this object, so a ``workspace/didChangeWorkspaceFolders`` reaches each
of them at once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types


def uri_to_path(uri: str) -> Path | None:
    """The local path of a ``file:`` URI (None for another scheme or another host)."""
    parsed = urlparse(uri)
    if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
        return None
    return Path(unquote(parsed.path))


class WorkspaceRoots:
    """The folders of the workspace, as the editor named them (``paths``) and with
    symlinks resolved (``real``, for deciding what is inside)."""

    def __init__(self) -> None:
        self.paths: list[Path] = []
        self.real: list[Path] = []
        self._listeners: list[Callable[[list[Path]], None]] = []

    def on_change(self, listener: Callable[[list[Path]], None]) -> None:
        """Call ``listener`` with the paths now and after every change."""
        self._listeners.append(listener)
        listener(list(self.paths))

    def set(
        self,
        folder_uris: Iterable[str],
        root_uri: str | None = None,
        root_path: str | None = None,
    ) -> None:
        """The folders; without any, ``root_uri``; without it, the deprecated
        ``root_path`` (the order the LSP gives them)."""
        paths = [path for uri in folder_uris if (path := uri_to_path(uri)) is not None]
        if not paths and root_uri:
            path = uri_to_path(root_uri)
            paths = [path] if path is not None else []
        if not paths and root_path:
            paths = [Path(root_path)]
        self.paths = paths
        self.real = [Path(os.path.realpath(path)) for path in paths]
        for listener in self._listeners:
            listener(list(paths))

    def set_from_initialize(self, params: types.InitializeParams) -> None:
        folders = [folder.uri for folder in params.workspace_folders or []]
        self.set(folders, params.root_uri, params.root_path)

    def contains(self, path: Path) -> bool:
        """``path`` is one of the folders or inside one, once symlinks are resolved."""
        real = Path(os.path.realpath(path))
        return any(real == root or root in real.parents for root in self.real)
