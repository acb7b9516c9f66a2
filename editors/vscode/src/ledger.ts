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

/** What running here cost: energy (and a remote bill) plus amortised hardware; a server
 * that does not count hardware yet sends only the energy. */
export function costHere(totals: SessionTotals): number {
  const total = (totals as SessionTotals & { total_cost?: number }).total_cost;
  return typeof total === "number" ? total : totals.local_cost;
}

/** What the user saved by running here: the same tokens at the cloud list price
 * (`edgewise.pricing.cloudInputPerMillion` / `cloudOutputPerMillion`) minus what running
 * here cost (energy and amortised hardware). */
export function saved(totals: SessionTotals): number {
  return Math.max(0, totals.cloud_equivalent - costHere(totals));
}

// --- the server's cost summary (`edgewise.costReport` → summary): the figures
// `edgewise cost` prints, from the same ledger ---------------------------------------

export interface CostParts {
  energy: number | null;
  hardware: number | null;
  total: number | null;
}

export interface OutcomePart {
  requests: number;
  tokens: number;
  energy_wh: number;
  cost: number;
  cloud_equivalent: number;
}

export interface LedgerTotals extends SessionTotals {
  hardware: number;
  total_cost: number;
  active_seconds: number;
  outcomes: Record<string, OutcomePart>;
  accepted_lines: number;
  applied_changes: number;
  cost_per_accepted_line: number | null;
  cost_per_applied_change: number | null;
}

export interface Alternative {
  name: string;
  kind: "hosted" | "subscription";
  cost: number;
  input_per_million?: number;
  output_per_million?: number;
  per_month?: number;
}

export interface PeriodFigures {
  label: string;
  start: string;
  end: string;
  totals: LedgerTotals;
  units: { per_request: CostParts; per_active_hour: CostParts; per_1k_tokens: CostParts };
  alternatives: Alternative[];
}

export interface BreakEven {
  name: string;
  per_month: number;
  edgewise_running_per_month: number;
  saving_per_month: number;
  payback_months: number | null;
  break_even_tokens_per_month: number | null;
}

export interface CostSummary {
  currency: string;
  price_multiplier: number;
  hardware_per_hour: number;
  hardware_per_month: number;
  week: PeriodFigures;
  month: PeriodFigures;
  last_30_days: { tokens: number; cost: number; break_even: BreakEven[] };
  skipped_lines: number;
}

export interface BudgetStatus {
  text: string;
  level: "ok" | "warn" | "limit";
  percent: number;
}

/** The answer of `edgewise.costReport`. */
export interface CostAnswer {
  session: LedgerTotals;
  summary?: CostSummary;
  budget?: BudgetStatus | null;
  csv?: string;
  log?: string | null;
}

export function isCostSummary(value: unknown): value is CostSummary {
  const v = value as Partial<CostSummary> | null;
  return typeof v === "object" && v !== null && typeof v.week === "object" && typeof v.month === "object";
}
