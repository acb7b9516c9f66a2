// "Edgewise: Rewrite Selection…": asks for an instruction, then has the server rewrite
// the selection (`edgewise.rewrite` with {uri, range, instruction}).
import * as vscode from "vscode";
import { EdgewiseClient, UnknownCommandError } from "./client";
import { CMD_REWRITE } from "./protocol";

interface RewriteAnswer {
  applied?: unknown;
  reason?: unknown;
  told?: unknown;
  edit?: unknown;
  changes?: unknown;
  documentChanges?: unknown;
  message?: unknown;
  command?: { command?: unknown; arguments?: unknown };
  disabled?: unknown;
}

function isWorkspaceEditLike(value: unknown): boolean {
  return typeof value === "object" && value !== null && ("changes" in value || "documentChanges" in value);
}

export async function rewriteSelection(client: EdgewiseClient): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.selection.isEmpty) {
    void vscode.window.showInformationMessage("edgewise: select the code to rewrite first.");
    return;
  }
  const instruction = await vscode.window.showInputBox({
    title: "Edgewise: Rewrite Selection",
    prompt: "How should edgewise rewrite the selected code?",
    placeHolder: "e.g. use a list comprehension",
    ignoreFocusOut: true,
    validateInput: (text) => (text.trim() ? undefined : "Say what to change."),
  });
  if (!instruction?.trim()) {
    return;
  }
  const document = editor.document;
  const selection = editor.selection;
  const language = client.running;
  const range = language
    ? language.code2ProtocolConverter.asRange(selection)
    : {
        start: { line: selection.start.line, character: selection.start.character },
        end: { line: selection.end.line, character: selection.end.character },
      };
  const args = [{ uri: document.uri.toString(), range, instruction: instruction.trim() }];
  let answer: unknown;
  try {
    // the server shows its progress (a notification with Cancel), then the change in
    // a diff beside the code (preview.ts): it is applied only when the person accepts it
    answer = await client.executeCommand(CMD_REWRITE, args);
  } catch (error) {
    if (error instanceof UnknownCommandError) {
      void vscode.window.showErrorMessage(
        "edgewise: this edgewise server cannot rewrite a selection (it does not know the command " +
          `“${CMD_REWRITE}”). Update the edgewise server, then run “Edgewise: Restart Server”.`,
      );
    } else {
      void vscode.window.showErrorMessage(`edgewise: the rewrite failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    return;
  }
  // The server either applies the edit itself (workspace/applyEdit, handled by the
  // language client) or answers with it; then it is applied here.
  const reply = (answer ?? {}) as RewriteAnswer;
  const edit = isWorkspaceEditLike(reply.edit) ? reply.edit : isWorkspaceEditLike(reply) ? reply : undefined;
  const running = client.running;
  if (edit && running) {
    const converted = await running.protocol2CodeConverter.asWorkspaceEdit(
      edit as Parameters<typeof running.protocol2CodeConverter.asWorkspaceEdit>[0],
    );
    if (converted && !(await vscode.workspace.applyEdit(converted))) {
      void vscode.window.showErrorMessage("edgewise: the rewrite could not be applied (the document changed?).");
    }
  }
  // Like a code action, the answer may carry the command that publishes its report.
  if (edit && reply.command && typeof reply.command.command === "string") {
    const commandArgs = Array.isArray(reply.command.arguments) ? (reply.command.arguments as unknown[]) : [];
    await client.executeCommand(reply.command.command, commandArgs).catch(() => undefined);
  }
  const disabled = reply.disabled as { reason?: unknown } | undefined;
  if (reply.applied === false && typeof reply.reason === "string" && /discarded in the preview/.test(reply.reason)) {
    vscode.window.setStatusBarMessage("edgewise: rewrite discarded", 5000); // the person chose so
  } else if (reply.told === true) {
    // the server has shown why already (window/showMessage)
  } else if (disabled && typeof disabled.reason === "string") {
    void vscode.window.showWarningMessage(`edgewise: not rewritten: ${disabled.reason}`);
  } else if (typeof reply.message === "string") {
    void vscode.window.showInformationMessage(reply.message);
  } else if (answer === null || answer === false) {
    void vscode.window.showInformationMessage("edgewise: the server made no rewrite for this selection.");
  }
}
