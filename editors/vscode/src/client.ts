// One `edgewise serve` process behind a vscode-languageclient LanguageClient: started,
// restarted when the server path changes or on request, told about other setting changes.
import * as vscode from "vscode";
import {
  CancellationToken,
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ResponseError,
  ServerOptions,
  State,
} from "vscode-languageclient/node";
import { SessionLedger } from "./ledger";
import { ChangePreview } from "./preview";
import { ProgressNotifications } from "./progress";
import { STATUS_NOTIFICATION, StatusParams, isStatus } from "./protocol";
import { ReadonlyDocuments } from "./readonlyDocuments";
import { ReportStore } from "./reportHover";
import { locateServer } from "./serverLocator";
import { SECTION, serverPathSetting, serverSettings } from "./settings";

export const LANGUAGES = [
  "python",
  "javascript",
  "javascriptreact",
  "typescript",
  "typescriptreact",
  "go",
  "rust",
  "java",
  "c",
  "cpp",
];

/** A document the server shows with an explanation (`edgewise.explain`): a Markdown file
 * in its state folder's `explanations/`. */
function isExplanation(uri: string): boolean {
  return /\/explanations\/explain-[^/]*\.md$/.test(uri);
}

/** Thrown by `executeCommand` when the running server does not offer the command. */
export class UnknownCommandError extends Error {}

export class EdgewiseClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<void> | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly output: vscode.LogOutputChannel;
  private toldMissing = false;
  private readonly progress = new ProgressNotifications(() => this.client);
  private readonly preview: ChangePreview;
  private readonly statusEmitter = new vscode.EventEmitter<StatusParams>();
  /** Every `edgewise/status` notification (the status item reads its notice and budget). */
  readonly onStatus = this.statusEmitter.event;

  constructor(
    private readonly settingKeys: readonly string[],
    private readonly ledger: SessionLedger,
    private readonly reports: ReportStore,
    documents: ReadonlyDocuments,
  ) {
    this.preview = new ChangePreview(documents, () => this.client);
    this.output = vscode.window.createOutputChannel("edgewise", { log: true });
    this.subscriptions.push(
      this.output,
      this.statusEmitter,
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (!event.affectsConfiguration(SECTION)) {
          return;
        }
        if (event.affectsConfiguration(`${SECTION}.serverPath`)) {
          void this.restart();
        } else {
          this.sendSettings();
        }
      }),
    );
  }

  get running(): LanguageClient | undefined {
    return this.client?.state === State.Running ? this.client : undefined;
  }

  start(): Promise<void> {
    this.starting ??= this.doStart().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async doStart(): Promise<void> {
    if (this.client) {
      return;
    }
    this.ledger.setState("starting");
    const located = await locateServer(serverPathSetting(), vscode.window.activeTextEditor?.document.uri);
    if (!located.ok) {
      this.ledger.setState("failed", located.message);
      this.output.appendLine(located.message);
      if (!this.toldMissing) {
        this.toldMissing = true; // one notification per session, not one per attempt
        void vscode.window.showErrorMessage(located.message, "Open Settings").then((choice) => {
          if (choice) {
            // edgewise.serverPath is a machine setting: in a remote window it is a Remote setting
            const command = vscode.env.remoteName ? "workbench.action.openRemoteSettings" : "workbench.action.openSettings";
            void vscode.commands.executeCommand(command, { query: `${SECTION}.serverPath` });
          }
        });
      }
      return;
    }
    this.toldMissing = false;
    this.output.appendLine(`edgewise: starting ${located.command} serve (found via the ${located.source})`);
    const serverOptions: ServerOptions = {
      command: located.command,
      args: ["serve"], // stdio (no `transport`: the client would add --stdio, which serve does not take)
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: LANGUAGES.flatMap((language) => [
        { scheme: "file", language },
        { scheme: "untitled", language },
      ]),
      initializationOptions: serverSettings(this.settingKeys),
      outputChannel: this.output,
      middleware: {
        handleDiagnostics: (uri, diagnostics, next) => {
          this.reports.update(uri, diagnostics);
          next(uri, diagnostics);
        },
        // In VS Code, edgewise suggests through inline completions (ghost text). The
        // completion list would ask the model a second time for every keystroke (and the
        // server lets the newer request of a document supersede the older), so it is off.
        provideCompletionItem: () => undefined,
        handleWorkDoneProgress: (token, params, next) => this.progress.handle(token, params, next),
        workspace: {
          // a change to confirm first (a rewrite): a diff beside the code, Apply / Discard
          handleApplyEdit: (params, next) =>
            this.preview.handle(params, async (p) => {
              const result = await next(p, CancellationToken.None);
              if (result instanceof ResponseError) {
                throw result;
              }
              return result;
            }),
        },
        window: {
          // An explanation opens beside the code it explains, without taking the focus.
          showDocument: async (params, token, next) => {
            if (params.external || !isExplanation(params.uri)) {
              return next(params, token);
            }
            try {
              const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(params.uri));
              await vscode.window.showTextDocument(document, {
                viewColumn: vscode.ViewColumn.Beside,
                preserveFocus: true,
                preview: true,
              });
              return { success: true };
            } catch {
              return { success: false };
            }
          },
        },
      },
    };
    const client = new LanguageClient("edgewise", "edgewise", serverOptions, clientOptions);
    this.client = client;
    client.onDidChangeState(({ newState }) => {
      if (newState === State.Stopped && this.client === client) {
        this.ledger.setState("failed", "edgewise stopped; run “Edgewise: Restart Server” to start it again.");
      } else if (newState === State.Running && this.client === client) {
        this.ledger.newSession(); // a (re)started process starts a new session
        this.ledger.setState("idle");
      }
    });
    client.onNotification(STATUS_NOTIFICATION, (params: unknown) => {
      if (isStatus(params)) {
        this.ledger.onStatus(params);
        this.statusEmitter.fire(params);
      }
    });
    try {
      await client.start();
    } catch (error) {
      const message = `edgewise: the server did not start: ${String(error)}`;
      this.output.appendLine(message);
      this.ledger.setState("failed", message);
      void vscode.window.showErrorMessage(message);
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.reports.clear();
    this.progress.clear();
    if (client) {
      try {
        await client.dispose(5000);
      } catch (error) {
        this.output.appendLine(`edgewise: stopping the server: ${String(error)}`);
      }
    }
    this.ledger.setState("stopped");
  }

  async restart(): Promise<void> {
    await this.starting;
    await this.stop();
    await this.start();
  }

  private sendSettings(): void {
    const client = this.running;
    if (client) {
      void client.sendNotification(DidChangeConfigurationNotification.type, {
        settings: { [SECTION]: serverSettings(this.settingKeys) },
      });
    }
  }

  /** `workspace/executeCommand`; UnknownCommandError if this server does not offer `command`. */
  async executeCommand(command: string, args: unknown[] = []): Promise<unknown> {
    await this.starting;
    const client = this.running;
    if (!client) {
      throw new Error("edgewise is not running (see the edgewise output, or run “Edgewise: Restart Server”).");
    }
    const offered = client.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
    if (!offered.includes(command)) {
      throw new UnknownCommandError(command);
    }
    try {
      return await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
    } catch (error) {
      if (error instanceof ResponseError && /not defined|unknown command|not found/i.test(error.message)) {
        throw new UnknownCommandError(command);
      }
      throw error;
    }
  }

  dispose(): void {
    void this.stop();
    for (const subscription of this.subscriptions) {
      subscription.dispose();
    }
  }
}
