// The session as the extension sees it: the server's running totals (from each
// `edgewise/status` notification) and, derived from their differences, one entry per
// request for the cost report's table and chart.
import * as vscode from "vscode";
import { ModelStatus, SessionTotals, StatusParams } from "./protocol";

export interface RequestEntry {
  /** When the status that closed the request arrived (ms since epoch). */
  time: number;
  id: string;
  summary: string;
  /** Requests the server counted since the previous entry (usually 1). */
  requests: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  energyWh: number;
  cloudEquivalent: number;
  localCost: number;
}

export type ServerState =
  | "stopped"
  | "starting"
  | "idle"
  | "busy"
  | "failed"
  | "loading"
  | "restarting"
  | "crashed"
  | "error";

export const EMPTY_TOTALS: SessionTotals = {
  requests: 0,
  tokens_prompt: 0,
  tokens_completion: 0,
  tokens_cached: 0,
  model_seconds: 0,
  energy_wh: 0,
  local_cost: 0,
  cloud_equivalent: 0,
  currency: null,
  hidden: 0,
};

/** Most entries kept for the chart (older ones are dropped, the totals stay exact). */
const MAX_ENTRIES = 500;

export class SessionLedger implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  state: ServerState = "stopped";
  problem: string | undefined;
  model: ModelStatus | undefined;
  totals: SessionTotals = { ...EMPTY_TOTALS };
  hidden = 0;
  lastSummary: string | undefined;
  readonly entries: RequestEntry[] = [];
  private lastId: string | undefined;

  setState(state: ServerState, problem?: string): void {
    this.state = state;
    this.problem = problem;
    this.changed.fire();
  }

  /** A new server process starts a new session on the server's side. */
  newSession(): void {
    this.totals = { ...EMPTY_TOTALS };
    this.entries.length = 0;
    this.lastSummary = undefined;
    this.hidden = 0;
    this.lastId = undefined;
    this.changed.fire();
  }

  onStatus(status: StatusParams): void {
    const before = this.totals;
    const after = status.session;
    if (after.requests < before.requests) {
      this.newSession(); // the server was restarted behind our back
      return this.onStatus(status);
    }
    if (status.last && status.last.id !== this.lastId && after.requests > before.requests) {
      this.entries.push({
        time: Date.now(),
        id: status.last.id,
        summary: status.last.summary,
        requests: after.requests - before.requests,
        promptTokens: after.tokens_prompt - before.tokens_prompt,
        completionTokens: after.tokens_completion - before.tokens_completion,
        cachedTokens: after.tokens_cached - before.tokens_cached,
        energyWh: after.energy_wh - before.energy_wh,
        cloudEquivalent: after.cloud_equivalent - before.cloud_equivalent,
        localCost: after.local_cost - before.local_cost,
      });
      if (this.entries.length > MAX_ENTRIES) {
        this.entries.splice(0, this.entries.length - MAX_ENTRIES);
      }
      this.lastId = status.last.id;
    }
    if (status.last) {
      this.lastSummary = status.last.summary;
    }
    this.totals = after;
    this.hidden = status.hidden ?? after.hidden ?? this.hidden;
    this.state = status.state;
    this.model = status.model;
    this.problem = status.model?.message || undefined;
    this.changed.fire();
  }

  /** Totals fetched with `edgewise.costReport` (the same numbers, asked for directly). */
  onTotals(totals: SessionTotals): void {
    if (totals.requests >= this.totals.requests) {
      this.totals = totals;
      this.hidden = totals.hidden ?? this.hidden;
      this.changed.fire();
    }
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** What the user saved by running locally: the cloud-equivalent price minus the local cost. */
export function saved(totals: SessionTotals): number {
  return Math.max(0, totals.cloud_equivalent - totals.local_cost);
}
