"""The session: ``initialize`` (what the client can do, its workspace, its settings),
``initialized`` (the model loads), workspace folders and settings that change, and
``shutdown``."""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from edgewise.config import unwrap
from edgewise.errors import EdgewiseError
from edgewise.lsp.language_server import EdgewiseServer
from edgewise.lsp.pygls_hooks import replace_workspace
from edgewise.lsp.workspace import LspWorkspace


def initialize(ls: EdgewiseServer, params: types.InitializeParams) -> None:
    replace_workspace(ls.protocol, LspWorkspace.replacing(ls.workspace))
    ls.apply_settings(params.initialization_options)
    encoding = ls.workspace.position_encoding
    ls.engine.position_encoding = str(getattr(encoding, "value", encoding) or "utf-16")
    caps = params.capabilities
    resolve = caps.text_document and caps.text_document.code_action
    if resolve and resolve.resolve_support and "edit" in resolve.resolve_support.properties:
        ls.resolve_edits = True
    ls.action_literals = bool(resolve and resolve.code_action_literal_support)
    edit_caps = caps.workspace and caps.workspace.workspace_edit
    ls.document_changes = bool(edit_caps and edit_caps.document_changes)
    ls.roots.set_from_initialize(params)


async def initialized(ls: EdgewiseServer, params: types.InitializedParams) -> None:
    try:
        backend = await ls.engine.host.backend()
        # what every report names, found now rather than in the first answer (reading
        # package metadata takes milliseconds)
        ls.engine.host.engine_facts(backend)
    except EdgewiseError as exc:
        ls.tell_error(exc)
    ls.tell_notes()


def did_change_folders(ls: EdgewiseServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
    """pygls has added and removed the folders in its workspace; the roots follow (the
    edit guard and the context engine read them)."""
    workspace = ls.workspace
    folders = [folder.uri for folder in workspace.folders.values()]
    ls.roots.set(folders, workspace.root_uri, workspace.root_path)


def did_change_configuration(
    ls: EdgewiseServer, params: types.DidChangeConfigurationParams
) -> None:
    # eglot sends `settings: {}` after every start when nothing is configured there:
    # an empty object must not reset the initializationOptions to the defaults.
    if params.settings is not None and unwrap(params.settings) != {}:
        ls.apply_settings(params.settings)


def shutdown(ls: EdgewiseServer, *args: Any) -> None:
    ls.engine.close()
