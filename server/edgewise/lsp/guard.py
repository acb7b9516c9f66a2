"""Where the server may edit: open documents and files inside the workspace folders.

A URI with another scheme, a path that leaves the workspace through ``..``, or a symlink
pointing outside it is refused, whatever the model (or a comment in the file) says.
"""

from __future__ import annotations

from urllib.parse import urlparse

from edgewise.lsp.workspace_roots import WorkspaceRoots, uri_to_path

ALLOWED_SCHEMES = ("file", "untitled")


class EditGuard:
    def __init__(self, roots: WorkspaceRoots) -> None:
        self.roots = roots

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
        if not self.roots.real:
            return None if is_open else "not an open document and no workspace folder"
        if not self.roots.contains(path):
            return "outside the workspace folders (a symlink or path leaving the workspace)"
        return None
