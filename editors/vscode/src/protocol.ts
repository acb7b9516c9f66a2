// What the edgewise server sends beyond plain LSP (schemas/report.schema.json and the
// `edgewise/status` notification), as the extension reads it.

export const STATUS_NOTIFICATION = "edgewise/status";
export const CMD_COST_REPORT = "edgewise.costReport";
export const CMD_LAST_PROMPT = "edgewise.lastPrompt";
export const CMD_REWRITE = "edgewise.rewrite";
export const DIAGNOSTIC_SOURCE = "edgewise";

export interface SessionTotals {
  requests: number;
  tokens_prompt: number;
  tokens_completion: number;
  tokens_cached: number;
  model_seconds: number;
  energy_wh: number;
  local_cost: number;
  cloud_equivalent: number;
  currency: string | null;
  hidden?: number;
}

/** The model: "ready", or why not ("loading", "restarting" after its process ended,
 * "crashed" when edgewise stopped restarting it, "error" when it cannot load). */
export type ModelState = "not loaded" | "loading" | "ready" | "restarting" | "crashed" | "error";

export interface ModelStatus {
  state: ModelState;
  message: string;
  extraBuffers?: boolean;
  extraBuffersReason?: string;
  cpuFeatures?: string;
  promptTokensPerSecond?: number | null;
  generatedTokensPerSecond?: number | null;
}

/** A transient message for the status item, shown for `ms` milliseconds (e.g. a
 * suggestion hidden for low confidence: "hidden: not sure enough (0.03)"). */
export interface StatusNotice {
  kind: string;
  text: string;
  ms: number;
}

/** Where the spending stands against the budget the user set. */
export interface StatusBudget {
  text: string;
  level: "ok" | "warn" | "limit";
  percent: number;
}

export interface StatusParams {
  state: "busy" | "idle" | "loading" | "restarting" | "crashed" | "error";
  model?: ModelStatus;
  last?: { id: string; summary: string };
  session: SessionTotals;
  hidden?: number;
  notice?: StatusNotice;
  budget?: StatusBudget | null;
}

export interface LspPosition {
  line: number;
  character: number;
}

export interface LspRange {
  start: LspPosition;
  end: LspPosition;
}

export interface LowSpan extends LspRange {
  min_prob: number;
  text?: string;
}

export interface Report {
  id: string;
  kind: "completion" | "action";
  action: string;
  uri: string;
  range: LspRange;
  created?: string;
  model: { name: string; sha256: string; path?: string; backend?: string };
  prompt_format?: string;
  seed: number;
  sampler: { temperature: number; strategy?: string };
  tokens: { prompt: number; completion: number; cached: number; source?: string; whole_file?: number };
  time_ms: { total: number; prompt: number; generation: number; queue?: number; source?: string };
  cost: { energy_wh: number; local: number; cloud_equivalent: number; currency: string };
  confidence: {
    score: number | null;
    mean_logprob: number | null;
    min_prob: number | null;
    first_margin?: number | null;
    low_spans: LowSpan[];
    threshold?: number;
    method?: string;
    calibrated?: boolean;
    raw_score?: number | null;
    calibration?: { method: string; samples: number; right: number; created: string; source: string };
  };
  verified: { syntax_ok: boolean | null; reason: string; attempts?: number };
  stop_reason?: string;
  context?: Record<string, unknown>;
  hidden?: boolean;
  cache?: "hit" | "type-through" | "miss" | "off";
  cached_from?: string;
  produced_by?: {
    report: string;
    tokens: Report["tokens"];
    time_ms: Report["time_ms"];
    cost: Report["cost"];
  };
}

export interface LastPrompt {
  kind?: string;
  action?: string;
  uri?: string;
  text: string;
  prompt_tokens?: number;
  format?: string;
  pieces?: unknown[];
  notes?: string[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A report is recognised by the fields the hover and the status bar read. */
export function isReport(value: unknown): value is Report {
  return (
    isObject(value) &&
    typeof value.id === "string" &&
    isObject(value.tokens) &&
    isObject(value.cost) &&
    isObject(value.confidence) &&
    isObject(value.time_ms) &&
    isObject(value.range)
  );
}

export function isSessionTotals(value: unknown): value is SessionTotals {
  return isObject(value) && typeof value.requests === "number" && typeof value.tokens_prompt === "number";
}

export function isStatus(value: unknown): value is StatusParams {
  const states = ["busy", "idle", "loading", "restarting", "crashed", "error"];
  return isObject(value) && states.includes(value.state as string) && isSessionTotals(value.session);
}

export function isLastPrompt(value: unknown): value is LastPrompt {
  return isObject(value) && typeof value.text === "string";
}

export function isNotice(value: unknown): value is StatusNotice {
  return isObject(value) && typeof value.text === "string" && value.text.length > 0 && typeof value.ms === "number";
}

export function isBudget(value: unknown): value is StatusBudget {
  return (
    isObject(value) &&
    typeof value.text === "string" &&
    ["ok", "warn", "limit"].includes(value.level as string) &&
    typeof value.percent === "number"
  );
}
