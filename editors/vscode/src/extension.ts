// edgewise for VS Code: starts `edgewise serve`, shows its ghost-text completions and
// code actions, the session's cost in the status bar and each report on hover.
import * as vscode from "vscode";
import { EdgewiseClient, LANGUAGES } from "./client";
import { CostReportPanel } from "./costReport";
import { SessionLedger } from "./ledger";
import { CMD_COST_REPORT, CMD_LAST_PROMPT, isLastPrompt, isSessionTotals } from "./protocol";
import { ReadonlyDocuments, SCHEME } from "./readonlyDocuments";
import { ReportHoverProvider, ReportStore, SHOW_REPORT_JSON } from "./reportHover";
import { rewriteSelection } from "./rewrite";
import { serverSettingKeys } from "./settings";
import { SHOW_COST_REPORT, StatusBar } from "./statusBar";

let edgewise: EdgewiseClient | undefined;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function activate(context: vscode.ExtensionContext): void {
  const ledger = new SessionLedger();
  const reports = new ReportStore();
  const documents = new ReadonlyDocuments();
  const client = new EdgewiseClient(serverSettingKeys(context.extension.packageJSON), ledger, reports, documents);
  const costReport = new CostReportPanel(ledger);
  edgewise = client;

  context.subscriptions.push(
    ledger,
    documents,
    client,
    costReport,
    new StatusBar(ledger, client.onStatus),
    vscode.workspace.registerTextDocumentContentProvider(SCHEME, documents),
    vscode.languages.registerHoverProvider(
      LANGUAGES.map((language) => ({ language })),
      new ReportHoverProvider(reports),
    ),
    vscode.commands.registerCommand("edgewise.restartServer", () => client.restart()),
    vscode.commands.registerCommand(SHOW_COST_REPORT, async () => {
      costReport.show();
      try {
        const answer = await client.executeCommand(CMD_COST_REPORT);
        costReport.setAnswer(answer); // the week, the month and the comparison
        const session = (answer as { session?: unknown } | null)?.session;
        if (isSessionTotals(session)) {
          ledger.onTotals(session);
        }
      } catch (error) {
        void vscode.window.showWarningMessage(`edgewise: no cost report: ${errorText(error)}`);
      }
    }),
    vscode.commands.registerCommand("edgewise.showLastPrompt", async () => {
      try {
        const last = await client.executeCommand(CMD_LAST_PROMPT);
        if (!isLastPrompt(last)) {
          void vscode.window.showInformationMessage("edgewise: nothing has been sent to the model yet.");
          return;
        }
        await documents.open("last-prompt.txt", last.text);
        const tokens = last.prompt_tokens === undefined ? "" : `${last.prompt_tokens} tokens, `;
        void vscode.window.setStatusBarMessage(
          `edgewise: last prompt: ${tokens}${last.format ?? ""} (${last.kind ?? "request"})`,
          8000,
        );
      } catch (error) {
        void vscode.window.showWarningMessage(`edgewise: no last prompt: ${errorText(error)}`);
      }
    }),
    vscode.commands.registerCommand(SHOW_REPORT_JSON, async (id: unknown) => {
      const report = typeof id === "string" ? reports.byId(id) : undefined;
      if (!report) {
        void vscode.window.showInformationMessage("edgewise: that report is no longer shown.");
        return;
      }
      await documents.open(`report-${report.id}.json`, `${JSON.stringify(report, null, 2)}\n`, "json");
    }),
    vscode.commands.registerCommand("edgewise.rewriteSelection", () => rewriteSelection(client)),
  );
  void client.start();
}

export async function deactivate(): Promise<void> {
  await edgewise?.stop();
  edgewise = undefined;
}
