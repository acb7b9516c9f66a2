// The status bar item: idle/busy and the session's cost, e.g.
// "edgewise · 12.4k tok · 0.6 Wh · ≈$0.03 saved vs cloud"; for a moment, the server's
// notice ("hidden: not sure enough (0.03)"); the budget when it nears or reaches its
// limit (always in the tooltip). Clicking it opens the cost report.
import * as vscode from "vscode";
import { compactCount, money, shortNumber } from "./format";
import { SessionLedger, saved } from "./ledger";
import { SessionTotals, StatusBudget, StatusNotice, StatusParams, isBudget, isNotice } from "./protocol";

export const SHOW_COST_REPORT = "edgewise.showCostReport";

export function costText(totals: SessionTotals): string {
  const tokens = totals.tokens_prompt + totals.tokens_completion;
  return [
    "edgewise",
    `${compactCount(tokens)} tok`,
    `${shortNumber(totals.energy_wh)} Wh`,
    `≈${money(saved(totals), totals.currency)} saved vs cloud`,
  ].join(" · ");
}

const NOTICE_ICONS: Record<string, string> = { hidden: "$(eye-closed)" };
const MAX_NOTICE_MS = 30_000;

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subscriptions: vscode.Disposable[];
  private notice: StatusNotice | undefined;
  private noticeTimer: ReturnType<typeof setTimeout> | undefined;
  private budget: StatusBudget | undefined;

  constructor(
    private readonly ledger: SessionLedger,
    status: vscode.Event<StatusParams>,
  ) {
    this.item = vscode.window.createStatusBarItem("edgewise.status", vscode.StatusBarAlignment.Right, 100);
    this.item.name = "edgewise";
    this.item.command = SHOW_COST_REPORT;
    this.subscriptions = [ledger.onDidChange(() => this.render()), status((params) => this.onStatus(params))];
    this.render();
    this.item.show();
  }

  private onStatus(params: StatusParams): void {
    if ("budget" in params) {
      this.budget = isBudget(params.budget) ? params.budget : undefined;
    }
    if (isNotice(params.notice)) {
      this.notice = params.notice;
      clearTimeout(this.noticeTimer);
      this.noticeTimer = setTimeout(
        () => {
          this.notice = undefined;
          this.render();
        },
        Math.min(Math.max(params.notice.ms, 0), MAX_NOTICE_MS),
      );
    }
    this.render();
  }

  private render(): void {
    const { state, totals } = this.ledger;
    const cost = totals.requests > 0 ? costText(totals) : "edgewise · ready";
    let text: string;
    let tooltip: string;
    switch (state) {
      case "stopped":
        text = "$(circle-slash) edgewise";
        tooltip = "edgewise is not running.";
        break;
      case "failed":
        text = "$(error) edgewise";
        tooltip = this.ledger.problem ?? "edgewise could not start.";
        break;
      case "starting":
        text = "$(sync~spin) edgewise · starting";
        tooltip = "edgewise is starting (loading the model).";
        break;
      case "loading":
        text = "$(sync~spin) edgewise · loading the model";
        tooltip = "edgewise is loading the model and proving it runs with a short decode.";
        break;
      case "restarting":
        text = "$(warning) edgewise · model restarting";
        tooltip = this.ledger.problem ?? "The model process ended; edgewise is starting it again.";
        break;
      case "crashed":
      case "error":
        text = "$(error) edgewise · model not running";
        tooltip = this.ledger.problem ?? "The model is not running.";
        break;
      case "busy":
        text = `$(sync~spin) ${cost}`;
        tooltip = "edgewise is running the model.";
        break;
      default:
        text = cost;
        tooltip = "edgewise is idle.";
    }
    const busy = state === "busy";
    const budget = this.budget;
    if (budget && budget.level !== "ok" && !["stopped", "failed", "starting", "loading"].includes(state)) {
      text += ` · ${budget.level === "limit" ? "$(error)" : "$(warning)"} ${budget.text}`;
    }
    if (this.notice && !busy) {
      // a moment's message in place of the usual text: a person sees why nothing showed
      text = `${NOTICE_ICONS[this.notice.kind] ?? "$(info)"} edgewise · ${this.notice.text}`;
    }
    this.item.backgroundColor =
      budget?.level === "limit"
        ? new vscode.ThemeColor("statusBarItem.errorBackground")
        : budget?.level === "warn"
          ? new vscode.ThemeColor("statusBarItem.warningBackground")
          : undefined;
    const lines = [tooltip];
    if (this.notice) {
      lines.push(`Just now: ${this.notice.text}.`);
    }
    if (totals.requests > 0) {
      lines.push(
        `${totals.requests} requests: ${totals.tokens_prompt} prompt + ${totals.tokens_completion} generated tokens` +
          ` (${totals.tokens_cached} reused), ${shortNumber(totals.model_seconds)} s of model time,` +
          ` ${shortNumber(totals.energy_wh)} Wh, ${money(totals.local_cost, totals.currency)} locally vs` +
          ` ≈${money(totals.cloud_equivalent, totals.currency)} at cloud prices` +
          ` ("saved vs cloud": the cloud price of those tokens minus the local electricity).`,
      );
    }
    if (budget) {
      lines.push(`Budget: ${budget.text}.`);
    }
    if (this.ledger.hidden > 0) {
      lines.push(`${this.ledger.hidden} completions hidden below edgewise.minConfidence.`);
    }
    const model = this.ledger.model;
    if (model?.state === "ready") {
      const speed =
        model.promptTokensPerSecond && model.generatedTokensPerSecond
          ? `: ${Math.round(model.promptTokensPerSecond)} prompt tokens/s, ` +
            `${Math.round(model.generatedTokensPerSecond)} generated tokens/s at load`
          : "";
      lines.push(`The model runs${speed}.`);
      if (model.extraBuffersReason) {
        lines.push(`llama.cpp extra buffer types ${model.extraBuffers ? "on" : "off"}: ${model.extraBuffersReason}.`);
      }
      if (model.cpuFeatures) {
        lines.push(`CPU features llama.cpp uses: ${model.cpuFeatures}`);
      }
    }
    if (this.ledger.lastSummary) {
      lines.push(`Last: ${this.ledger.lastSummary}`);
    }
    lines.push("Click for the cost report.");
    this.item.text = text;
    this.item.tooltip = lines.join("\n");
    this.item.accessibilityInformation = { label: text.replace(/\$\([^)]*\)\s*/g, ""), role: "button" };
  }

  dispose(): void {
    clearTimeout(this.noticeTimer);
    for (const subscription of this.subscriptions) {
      subscription.dispose();
    }
    this.item.dispose();
  }
}
