"""Where the server may edit: open documents and files inside the workspace folders.

A URI with another scheme, a path that leaves the workspace through ``..``, or a symlink
pointing outside it is refused, whatever the model (or a comment in the file) says.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

ALLOWED_SCHEMES = ("file", "untitled")


def uri_to_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
        return None
    return Path(unquote(parsed.path))


class EditGuard:
    def __init__(self) -> None:
        self.roots: list[Path] = []

    def set_roots(self, uris: list[str]) -> None:
        roots = []
        for uri in uris:
            path = uri_to_path(uri)
            if path is not None:
                roots.append(Path(os.path.realpath(path)))
        self.roots = roots

    def inside_workspace(self, path: Path) -> bool:
        real = Path(os.path.realpath(path))
        return any(real == root or root in real.parents for root in self.roots)

    def refusal(self, uri: str, is_open: bool) -> str | None:
        """None when an edit of ``uri`` is allowed, else why not."""
        scheme = urlparse(uri).scheme
        if scheme not in ALLOWED_SCHEMES:
            return f"edits to '{scheme}:' documents are refused"
        if scheme == "untitled":
            return None if is_open else "not an open document"
        path = uri_to_path(uri)
        if path is None:
            return "not a local file"
        if ".." in path.parts:
            return "a path with '..' is refused"
        if not self.roots:
            return None if is_open else "not an open document and no workspace folder"
        if not self.inside_workspace(path):
            return "outside the workspace folders (a symlink or path leaving the workspace)"
        return None
