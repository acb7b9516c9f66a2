"""The workspace folders an editor opened, as paths (for the context engine's imports)."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from edgewise.context.workspace import uri_to_path


def workspace_roots(params: types.InitializeParams) -> list[Path]:
    """Folders from ``workspaceFolders``, else ``rootUri``, else the deprecated ``rootPath``."""
    uris = [folder.uri for folder in params.workspace_folders or []]
    if not uris and params.root_uri:
        uris = [params.root_uri]
    paths = [path for uri in uris if (path := uri_to_path(uri)) is not None]
    if not paths and params.root_path:
        paths = [Path(params.root_path)]
    return paths
