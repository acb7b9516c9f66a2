// A change the server wants confirmed before it is applied (a rewrite: its edits carry
// the change annotation `edgewise.preview` with needsConfirmation). VS Code's own
// refactor preview lists such edits unticked, so its Apply applies nothing until each is
// ticked; edgewise shows the change as a diff beside the code instead, with Apply and
// Discard: Apply applies it as sent, Discard (or dismissing) leaves the code as it was.
import * as path from "node:path";
import * as vscode from "vscode";
import {
  ApplyWorkspaceEditParams,
  ApplyWorkspaceEditResult,
  LanguageClient,
  TextDocumentEdit,
  TextEdit,
} from "vscode-languageclient/node";
import { ReadonlyDocuments } from "./readonlyDocuments";

export const PREVIEW_ANNOTATION = "edgewise.preview";
export const APPLY = "Apply";
export const DISCARD = "Discard";

type Next = (params: ApplyWorkspaceEditParams) => Promise<ApplyWorkspaceEditResult>;

export class ChangePreview {
  private shown = 0;

  constructor(
    private readonly documents: ReadonlyDocuments,
    private readonly client: () => LanguageClient | undefined,
  ) {}

  /** The language client's `workspace.handleApplyEdit` middleware. */
  async handle(params: ApplyWorkspaceEditParams, next: Next): Promise<ApplyWorkspaceEditResult> {
    const annotation = params.edit.changeAnnotations?.[PREVIEW_ANNOTATION];
    const changes = params.edit.documentChanges ?? [];
    const client = this.client();
    const textOnly = changes.every((c) => TextDocumentEdit.is(c) && c.edits.every((e) => "newText" in e));
    if (!annotation?.needsConfirmation || !client || changes.length === 0 || !textOnly) {
      return next(params); // not ours to preview (the editor applies, or previews, as usual)
    }
    const edits = (changes as TextDocumentEdit[]).map((change) => ({
      textDocument: change.textDocument,
      edits: change.edits.filter((e): e is TextEdit => "newText" in e),
    }));
    const plain: ApplyWorkspaceEditParams = {
      label: params.label,
      edit: {
        documentChanges: edits.map((change) => ({
          textDocument: change.textDocument,
          edits: change.edits.map((e) => ({ range: e.range, newText: e.newText })),
        })),
      },
    };
    const tabs: vscode.Uri[] = [];
    let choice: string | undefined;
    try {
      for (const change of edits) {
        const original = vscode.Uri.parse(change.textDocument.uri);
        const document = await vscode.workspace.openTextDocument(original);
        const ranges = change.edits.map((e) => ({ range: client.protocol2CodeConverter.asRange(e.range), text: e.newText }));
        let text = document.getText();
        for (const { range, text: newText } of ranges.sort((a, b) => b.range.start.compareTo(a.range.start))) {
          text = text.slice(0, document.offsetAt(range.start)) + newText + text.slice(document.offsetAt(range.end));
        }
        const proposed = this.documents.set(`preview-${++this.shown}/${path.posix.basename(original.path)}`, text);
        tabs.push(proposed);
        await vscode.commands.executeCommand(
          "vscode.diff",
          original,
          proposed,
          `${annotation.label} (preview)`,
          { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true, preview: true },
        );
      }
      choice = await vscode.window.showInformationMessage(
        `${annotation.label}: apply this change? (shown beside the code)`,
        APPLY,
        DISCARD,
      );
    } catch (error) {
      return { applied: false, failureReason: `the preview could not be shown: ${String(error)}` };
    } finally {
      this.close(tabs);
    }
    if (choice !== APPLY) {
      return { applied: false }; // the server says: discarded in the preview
    }
    return next(plain);
  }

  private close(proposed: vscode.Uri[]): void {
    const names = new Set(proposed.map((uri) => uri.toString()));
    const tabs = vscode.window.tabGroups.all
      .flatMap((group) => group.tabs)
      .filter((tab) => tab.input instanceof vscode.TabInputTextDiff && names.has(tab.input.modified.toString()));
    if (tabs.length > 0) {
      void vscode.window.tabGroups.close(tabs);
    }
  }
}
