// Read-only documents under the `edgewise:` scheme: the last prompt, exactly as it was
// sent to the model, reports as JSON, and the proposed text of a rewrite's preview.
// VS Code opens content-provider documents read-only.
import * as vscode from "vscode";

export const SCHEME = "edgewise";

export class ReadonlyDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly contents = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? "";
  }

  /** Sets the text of `edgewise:/<name>` and opens it (read-only) in an editor. */
  async open(name: string, text: string, language?: string): Promise<vscode.TextEditor> {
    const uri = this.set(name, text);
    let document = await vscode.workspace.openTextDocument(uri);
    if (language && document.languageId !== language) {
      document = await vscode.languages.setTextDocumentLanguage(document, language);
    }
    return vscode.window.showTextDocument(document, { preview: false, viewColumn: vscode.ViewColumn.Beside });
  }

  /** Sets the text of `edgewise:/<name>` (without showing it); its URI. */
  set(name: string, text: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: SCHEME, path: `/${name}` });
    this.contents.set(uri.toString(), text);
    this.changed.fire(uri);
    return uri;
  }

  dispose(): void {
    this.changed.dispose();
    this.contents.clear();
  }
}
