// The server's cancellable work-done progress (a code action, Explain, Rewrite: a model
// run of seconds) as a notification with a Cancel button and the server's messages
// ("generating (3.2 s)"), instead of the language client's spinner in the status bar.
// Cancelling sends window/workDoneProgress/cancel; the server stops the model within a token.
import * as vscode from "vscode";
import {
  HandleWorkDoneProgressSignature,
  LanguageClient,
  ProgressToken,
  WorkDoneProgressBegin,
  WorkDoneProgressCancelNotification,
  WorkDoneProgressEnd,
  WorkDoneProgressReport,
} from "vscode-languageclient/node";

interface Shown {
  report(message: string | undefined): void;
  end(): void;
}

type Params = WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd;

export class ProgressNotifications {
  private readonly shown = new Map<ProgressToken, Shown>();

  constructor(private readonly client: () => LanguageClient | undefined) {}

  /** The language client's `handleWorkDoneProgress` middleware. */
  handle(token: ProgressToken, params: Params, next: HandleWorkDoneProgressSignature): void {
    if (params.kind === "begin") {
      if (!params.cancellable) {
        next(token, params); // short, not cancellable: the status bar spinner is enough
        return;
      }
      this.begin(token, params);
    } else if (params.kind === "report") {
      this.shown.get(token)?.report(params.message);
      next(token, params); // a no-op for a progress shown here
    } else {
      const shown = this.shown.get(token);
      this.shown.delete(token);
      shown?.end();
      next(token, params); // the language client forgets the token
    }
  }

  private begin(token: ProgressToken, params: WorkDoneProgressBegin): void {
    let end: () => void = () => undefined;
    let progress: vscode.Progress<{ message?: string }> | undefined;
    let pending: string | undefined = params.message;
    const ended = new Promise<void>((resolve) => (end = resolve));
    this.shown.set(token, {
      report: (message) => {
        pending = message;
        progress?.report({ message });
      },
      end: () => end(),
    });
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: params.title, cancellable: true },
      (reporter, cancel) => {
        progress = reporter;
        if (pending) {
          reporter.report({ message: pending });
        }
        const listener = cancel.onCancellationRequested(() => {
          void this.client()?.sendNotification(WorkDoneProgressCancelNotification.type, { token });
        });
        return ended.finally(() => {
          listener.dispose();
        });
      },
    );
  }

  /** The server went away: its progress notifications go too. */
  clear(): void {
    for (const shown of this.shown.values()) {
      shown.end();
    }
    this.shown.clear();
  }
}
