// The cost report: a webview (no scripts) in the editor area with what edgewise cost
// this session, this week and this month (energy, amortised hardware, per request, per
// hour of active use, per 1,000 tokens), where the tokens went, the same tokens at
// hosted price points and a flat subscription, the break-even, charts, and CSV/JSON
// export. The week and month figures are the server's (`edgewise.costReport`), read
// from the ledger as `edgewise cost` reads them, so every door shows the same numbers.
import * as vscode from "vscode";
import { compactCount, escapeHtml, shortNumber } from "./format";
import {
  BreakEven,
  BudgetStatus,
  CostAnswer,
  CostSummary,
  LedgerTotals,
  PeriodFigures,
  RequestEntry,
  SessionLedger,
  costHere,
  isCostSummary,
  saved,
} from "./ledger";
import { SessionTotals } from "./protocol";

const CHART_WIDTH = 640;
const CHART_HEIGHT = 180;
const RECENT_ROWS = 20;
export const EXPORT_COST = "edgewise.exportCost";
/** The palette's way to the server's `edgewise.resumeBudget` (which vscode-languageclient
 * registers under the server's name; the extension's own commands take other names). */
export const RESUME_AFTER_BUDGET = "edgewise.resumeAfterBudget";

const OUTCOME_NAMES: Record<string, string> = {
  accepted: "suggestions accepted",
  ignored: "suggestions shown, not accepted",
  hidden: "hidden by the confidence gate",
  superseded: "superseded while typing",
  applied: "actions applied",
  not_applied: "actions not applied",
  regenerated: "attempts regenerated (failed checks)",
  refused: "changes refused (failed checks)",
};

const SYMBOLS: Record<string, string> = { USD: "$", EUR: "€", GBP: "£" };

/** Money as `edgewise cost` prints it (report/cost_text.py `money`): cents from one unit
 * up, four decimals below, two significant digits under 0.001 (never an exponent). */
export function money(value: number, currency: string | null | undefined): string {
  const abs = Math.abs(value);
  let digits = abs >= 1 ? 2 : 4;
  if (abs > 0 && abs < 0.001) {
    digits = Math.min(8, 1 - Math.floor(Math.log10(abs)));
  }
  const text = abs.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const sign = value < 0 ? "-" : "";
  const symbol = currency ? SYMBOLS[currency] : "$";
  return symbol ? `${sign}${symbol}${text}` : `${sign}${text} ${currency ?? ""}`.trim();
}

/** "3.5 months", "4.2 years", or "more than a century". */
export function payback(months: number): string {
  if (months < 24) {
    return `${months.toFixed(1)} months`;
  }
  const years = months / 12;
  return years > 100 ? "more than a century" : `${years.toFixed(1)} years`;
}

function row(label: string, value: string, title = ""): string {
  const hint = title ? ` title="${escapeHtml(title)}"` : "";
  return `<tr${hint}><th scope="row">${escapeHtml(label)}</th><td class="num">${escapeHtml(value)}</td></tr>`;
}

/** Money with a dash for "nothing to divide by". */
function amount(value: number | null | undefined, currency: string | null): string {
  return value === null || value === undefined ? "—" : money(value, currency);
}

function totalsTable(totals: SessionTotals, hidden: number): string {
  const currency = totals.currency;
  const extra = totals as Partial<LedgerTotals>;
  const rows = [
    row("requests", String(totals.requests)),
    row("prompt tokens", `${totals.tokens_prompt} (${totals.tokens_cached} reused from the cache)`),
    row("generated tokens", String(totals.tokens_completion)),
    row("model time", `${shortNumber(totals.model_seconds)} s`),
    row("energy", `${shortNumber(totals.energy_wh)} Wh`),
    row("electricity (and remote bills)", money(totals.local_cost, currency)),
  ];
  if (extra.hardware !== undefined) {
    rows.push(row("hardware (amortised)", money(extra.hardware, currency)));
  }
  rows.push(row("edgewise here, total", money(costHere(totals), currency)));
  if (extra.cost_per_accepted_line !== undefined) {
    rows.push(row("per accepted line", amount(extra.cost_per_accepted_line, currency)));
    rows.push(row("per applied change", amount(extra.cost_per_applied_change, currency)));
  }
  rows.push(
    row("same tokens at the cloud list price", money(totals.cloud_equivalent, currency),
      "edgewise.pricing.cloudInputPerMillion and cloudOutputPerMillion: every prompt and generated token"),
    row("saved compared with that price", money(saved(totals), currency),
      "the cloud list price of the same tokens minus what running here cost (energy and hardware)"),
    row("completions hidden (below minConfidence)", String(hidden)),
  );
  return `<table class="totals"><tbody>\n${rows.join("\n")}\n</tbody></table>`;
}

/** The week and the month side by side, as `edgewise cost` prints them. */
export function periodsTable(summary: CostSummary): string {
  const cur = summary.currency;
  const w = summary.week;
  const m = summary.month;
  const both = (label: string, pick: (p: PeriodFigures) => string, title = ""): string => {
    const hint = title ? ` title="${escapeHtml(title)}"` : "";
    return `<tr${hint}><th scope="row">${escapeHtml(label)}</th><td class="num">${escapeHtml(pick(w))}</td><td class="num">${escapeHtml(pick(m))}</td></tr>`;
  };
  const tokens = (p: PeriodFigures): number => p.totals.tokens_prompt + p.totals.tokens_completion;
  const mult = summary.price_multiplier;
  const rows = [
    both("requests", (p) => String(p.totals.requests)),
    both("tokens (prompt + generated)", (p) => compactCount(tokens(p))),
    both("active use", (p) => hours(p.totals.active_seconds)),
    both("energy", (p) => `${shortNumber(p.totals.energy_wh)} Wh`),
    both("electricity (and remote bills)", (p) => money(p.totals.local_cost, cur)),
    both("hardware (amortised)", (p) => money(p.totals.hardware, cur),
      `edgewise.pricing.hardwarePrice × hardwareShare over hardwareLifeYears × hardwareHoursPerDay: ${money(summary.hardware_per_hour, cur)} per active hour`),
    both("edgewise here, total", (p) => money(p.totals.total_cost, cur)),
    both("per request", (p) => amount(p.units.per_request.total, cur)),
    both("per hour of active use", (p) => amount(p.units.per_active_hour.total, cur)),
    both("per 1,000 tokens", (p) => amount(p.units.per_1k_tokens.total, cur)),
    both("per accepted line", (p) => amount(p.totals.cost_per_accepted_line, cur)),
    both("per applied change", (p) => amount(p.totals.cost_per_applied_change, cur)),
  ];
  w.alternatives.forEach((alt, i) => {
    const label = alt.kind === "hosted" ? `same tokens at ${alt.name}${mult !== 1 ? ` (×${mult})` : ""}` : alt.name;
    rows.push(both(label, (p) => money(p.alternatives[i]?.cost ?? 0, cur)));
  });
  return `<table class="periods"><thead><tr><th></th><th class="num">${escapeHtml(w.label)}</th><th class="num">${escapeHtml(m.label)}</th></tr></thead>
<tbody>${rows.join("\n")}</tbody></table>`;
}

/** Where the month's tokens went, by outcome. */
export function outcomesTable(period: PeriodFigures, currency: string): string {
  const rows = Object.entries(period.totals.outcomes)
    .filter(([, part]) => part.requests > 0 || part.tokens > 0)
    .map(
      ([name, part]) =>
        `<tr><th scope="row">${escapeHtml(OUTCOME_NAMES[name] ?? name)}</th><td class="num">${part.requests}</td>` +
        `<td class="num">${escapeHtml(compactCount(part.tokens))}</td><td class="num">${escapeHtml(money(part.cost, currency))}</td></tr>`,
    );
  if (rows.length === 0) {
    return `<p class="empty">No requests ${escapeHtml(period.label)} yet.</p>`;
  }
  return `<table class="outcomes"><thead><tr><th></th><th class="num">requests</th><th class="num">tokens</th><th class="num">cost</th></tr></thead>
<tbody>${rows.join("\n")}</tbody></table>`;
}

/** Horizontal bars: what edgewise cost here this month against each alternative. */
export function comparisonChart(period: PeriodFigures, currency: string): string {
  const bars: [string, number, string][] = [
    ["edgewise here", period.totals.total_cost, "here"],
    ...period.alternatives.map((a): [string, number, string] => [a.name, a.cost, a.kind]),
  ];
  const largest = Math.max(...bars.map(([, v]) => v), 0);
  const rowHeight = 22;
  const labelWidth = 190;
  const valueWidth = 90;
  const barSpace = CHART_WIDTH - labelWidth - valueWidth;
  const height = bars.length * rowHeight + 4;
  const shapes = bars
    .map(([name, value, kind], i) => {
      const y = i * rowHeight + 4;
      const width = largest > 0 ? Math.max(value > 0 ? 1 : 0, (value / largest) * barSpace) : 0;
      return (
        `<text class="label" x="${labelWidth - 8}" y="${y + 14}" text-anchor="end">${escapeHtml(name)}</text>` +
        `<rect class="${kind}" x="${labelWidth}" y="${y + 2}" width="${width.toFixed(1)}" height="${rowHeight - 8}"><title>${escapeHtml(`${name}: ${money(value, currency)}`)}</title></rect>` +
        `<text class="label" x="${(labelWidth + width + 6).toFixed(1)}" y="${y + 14}">${escapeHtml(money(value, currency))}</text>`
      );
    })
    .join("");
  return `<svg class="chart" role="img" aria-label="${escapeHtml(period.label)}: edgewise against hosted prices" viewBox="0 0 ${CHART_WIDTH} ${height}" preserveAspectRatio="xMinYMin meet">${shapes}</svg>`;
}

function breakEvenTable(rows: readonly BreakEven[], tokens: number, currency: string, hardwarePrice: boolean): string {
  const body = rows
    .map((r) => {
      const paid = !hardwarePrice ? "no hardware price set" : r.payback_months === null ? "never" : payback(r.payback_months);
      const usage =
        r.break_even_tokens_per_month === null
          ? "—"
          : r.break_even_tokens_per_month === 0
            ? "any usage"
            : `above ${compactCount(r.break_even_tokens_per_month)} tokens/month`;
      return (
        `<tr><th scope="row">${escapeHtml(r.name)}</th><td class="num">${escapeHtml(money(r.per_month, currency))}</td>` +
        `<td class="num">${escapeHtml(money(r.saving_per_month, currency))}</td><td>${escapeHtml(paid)}</td><td>${escapeHtml(usage)}</td></tr>`
      );
    })
    .join("\n");
  return `<p>At the last 30 days' usage (${escapeHtml(compactCount(tokens))} tokens): the saving is the alternative's price minus edgewise's running cost (energy and bills); the hardware is paid back when the savings add up to its price.</p>
<table class="breakeven"><thead><tr><th>compared with</th><th class="num">its cost / month</th><th class="num">saving / month</th><th>hardware paid back in</th><th>break-even usage</th></tr></thead>
<tbody>${body}</tbody></table>`;
}

/** Stacked bars (prompt, generated) per request, left to right in time. */
export function tokensChart(entries: readonly RequestEntry[]): string {
  if (entries.length === 0) {
    return `<p class="empty">No requests yet: the chart fills in as edgewise completes and acts.</p>`;
  }
  const max = Math.max(1, ...entries.map((e) => e.promptTokens + e.completionTokens));
  const left = 48;
  const bottom = 22;
  const plotWidth = CHART_WIDTH - left - 8;
  const plotHeight = CHART_HEIGHT - bottom - 8;
  const slot = plotWidth / entries.length;
  const barWidth = Math.max(1, Math.min(24, slot * 0.8));
  const y = (tokens: number): number => (tokens / max) * plotHeight;
  const bars = entries
    .map((e, i) => {
      const x = left + i * slot + (slot - barWidth) / 2;
      const promptH = y(e.promptTokens);
      const genH = y(e.completionTokens);
      const base = 8 + plotHeight;
      const title = escapeHtml(
        `${new Date(e.time).toLocaleTimeString()}: ${e.promptTokens} prompt + ${e.completionTokens} generated tokens`,
      );
      return (
        `<g class="bar"><title>${title}</title>` +
        `<rect class="prompt" x="${x.toFixed(1)}" y="${(base - promptH).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${promptH.toFixed(1)}"/>` +
        `<rect class="generated" x="${x.toFixed(1)}" y="${(base - promptH - genH).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${genH.toFixed(1)}"/></g>`
      );
    })
    .join("");
  const first = new Date(entries[0].time).toLocaleTimeString();
  const last = new Date(entries[entries.length - 1].time).toLocaleTimeString();
  return `<svg class="chart" role="img" aria-label="tokens per request over time" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" preserveAspectRatio="xMinYMin meet">
<line class="axis" x1="${left}" y1="8" x2="${left}" y2="${8 + plotHeight}"/>
<line class="axis" x1="${left}" y1="${8 + plotHeight}" x2="${CHART_WIDTH - 8}" y2="${8 + plotHeight}"/>
<text class="label" x="${left - 4}" y="14" text-anchor="end">${compactCount(max)}</text>
<text class="label" x="${left - 4}" y="${8 + plotHeight}" text-anchor="end">0</text>
<text class="label" x="${left}" y="${CHART_HEIGHT - 4}">${escapeHtml(first)}</text>
<text class="label" x="${CHART_WIDTH - 8}" y="${CHART_HEIGHT - 4}" text-anchor="end">${escapeHtml(last)}</text>
${bars}
</svg>
<p class="legend"><span class="swatch prompt"></span> prompt tokens <span class="swatch generated"></span> generated tokens</p>`;
}

function recentTable(entries: readonly RequestEntry[], currency: string | null): string {
  if (entries.length === 0) {
    return "";
  }
  const rows = entries
    .slice(-RECENT_ROWS)
    .reverse()
    .map(
      (e) =>
        `<tr><td>${escapeHtml(new Date(e.time).toLocaleTimeString())}</td>` +
        `<td class="num">${e.promptTokens}</td><td class="num">${e.completionTokens}</td>` +
        `<td class="num">${escapeHtml(shortNumber(e.energyWh))}</td>` +
        `<td class="num">${escapeHtml(money(e.cloudEquivalent, currency))}</td>` +
        `<td class="text">${escapeHtml(e.summary.replace(/^edgewise: /, ""))}</td></tr>`,
    )
    .join("\n");
  return `<h2>Recent requests</h2>
<table class="recent"><thead><tr><th>time</th><th class="num">prompt</th><th class="num">generated</th><th class="num">Wh</th><th class="num">cloud price</th><th>report</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

function budgetLine(budget: BudgetStatus | null | undefined): string {
  if (!budget) {
    return "";
  }
  const paused = budget.level === "limit" && budget.text.includes("paused")
    ? ` — run <a href="${escapeHtml(commandUri(RESUME_AFTER_BUDGET, []))}">Edgewise: Resume After Budget</a> to go on`
    : "";
  return `<p class="budget ${escapeHtml(budget.level)}">Budget: ${escapeHtml(budget.text)}${paused}</p>`;
}

function commandUri(command: string, args: unknown[]): string {
  return `command:${command}?${encodeURIComponent(JSON.stringify(args))}`;
}

function summarySections(summary: CostSummary | undefined): string {
  if (!summary) {
    return `<p class="empty">The week and month figures appear once the server answers edgewise.costReport.</p>`;
  }
  const cur = summary.currency;
  const exportLinks =
    `<p class="export">Export: <a href="${escapeHtml(commandUri(EXPORT_COST, ["csv"]))}">CSV</a> · ` +
    `<a href="${escapeHtml(commandUri(EXPORT_COST, ["json"]))}">JSON</a> (the same figures as <code>edgewise cost</code>)</p>`;
  return `<h2>This week and this month</h2>
${periodsTable(summary)}
${exportLinks}
<h2>${escapeHtml(summary.month.label)}: edgewise here against the same tokens elsewhere</h2>
${comparisonChart(summary.month, cur)}
<h2>Where ${escapeHtml(summary.month.label)}'s tokens went</h2>
${outcomesTable(summary.month, cur)}
<h2>Break-even</h2>
${breakEvenTable(summary.last_30_days.break_even, summary.last_30_days.tokens, cur, summary.hardware_per_hour > 0)}`;
}

export function costReportHtml(
  totals: SessionTotals,
  hidden: number,
  entries: readonly RequestEntry[],
  answer?: CostAnswer,
): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline';">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>edgewise cost report</title>
<style>
body { font-family: var(--vscode-font-family, sans-serif); color: var(--vscode-foreground, #222); padding: 0 16px; max-width: 960px; overflow-wrap: break-word; }
table { border-collapse: collapse; margin: 8px 0 16px; width: 100%; max-width: 720px; }
table.recent { max-width: none; }
table.recent th, table.recent td { padding-right: 8px; }
table.recent td.text { overflow-wrap: anywhere; }
th, td { text-align: left; padding: 3px 12px 3px 0; border-bottom: 1px solid var(--vscode-panel-border, #8884); vertical-align: top; }
th { font-weight: normal; }
thead th { font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
.chart { width: 100%; max-width: ${CHART_WIDTH}px; height: auto; display: block; }
.chart .axis { stroke: var(--vscode-foreground, #222); stroke-opacity: 0.5; }
.chart .label { fill: var(--vscode-descriptionForeground, #555); font-size: 11px; }
.prompt, .hosted { fill: var(--vscode-charts-blue, #3794ff); background: var(--vscode-charts-blue, #3794ff); }
.generated, .subscription { fill: var(--vscode-charts-orange, #d18616); background: var(--vscode-charts-orange, #d18616); }
.here { fill: var(--vscode-charts-green, #388a34); }
.swatch { display: inline-block; width: 10px; height: 10px; margin-left: 8px; }
.empty, .legend, .export { color: var(--vscode-descriptionForeground, #555); }
.budget.warn { color: var(--vscode-editorWarning-foreground, #bf8803); }
.budget.limit { color: var(--vscode-errorForeground, #e51400); }
</style></head>
<body>
<h1>edgewise: this session, this week and this month</h1>
${budgetLine(answer?.budget)}
<h2>This session</h2>
${totalsTable(totals, hidden)}
${summarySections(answer?.summary)}
<h2>Tokens per request (this session)</h2>
${tokensChart(entries)}
${recentTable(entries, totals.currency)}
<p class="legend">Energy is the device's power (edgewise.pricing.deviceWatts) times the model's run time, priced at edgewise.pricing.pricePerKwh; hardware is edgewise.pricing.hardwarePrice spread over its life and hours of use, charged per hour of active use. The cloud list price counts every prompt and generated token at edgewise.pricing's cloud prices; the hosted price points and the subscription are edgewise.costComparison's.</p>
</body></html>`;
}

function hours(seconds: number): string {
  if (seconds < 60) {
    return `${Math.round(seconds)} s`;
  }
  return seconds < 3600 ? `${Math.round(seconds / 60)} min` : `${(seconds / 3600).toFixed(1)} h`;
}

export class CostReportPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private readonly subscriptions: vscode.Disposable[];
  private answer: CostAnswer | undefined;

  constructor(private readonly ledger: SessionLedger) {
    this.subscriptions = [
      ledger.onDidChange(() => this.render()),
      vscode.commands.registerCommand(EXPORT_COST, (format: unknown) => this.exportTo(format === "json" ? "json" : "csv")),
      vscode.commands.registerCommand(RESUME_AFTER_BUDGET, async () => {
        try {
          const said = await vscode.commands.executeCommand<string>("edgewise.resumeBudget");
          void vscode.window.setStatusBarMessage(String(said ?? "edgewise: resumed"), 5000);
        } catch (error) {
          void vscode.window.showWarningMessage(`edgewise: cannot resume: ${error instanceof Error ? error.message : String(error)}`);
        }
      }),
    ];
  }

  show(): void {
    if (this.panel) {
      this.panel.reveal();
    } else {
      // the editor area's active group, full width: a side split made the tables scroll
      this.panel = vscode.window.createWebviewPanel("edgewise.costReport", "edgewise cost report", vscode.ViewColumn.Active, {
        enableScripts: false,
        enableCommandUris: [EXPORT_COST, RESUME_AFTER_BUDGET],
      });
      this.panel.onDidDispose(() => (this.panel = undefined));
    }
    this.render();
  }

  /** The server's answer to `edgewise.costReport` (week, month, comparison, budget). */
  setAnswer(answer: unknown): void {
    const candidate = answer as CostAnswer | null;
    if (candidate && typeof candidate === "object" && (candidate.summary === undefined || isCostSummary(candidate.summary))) {
      this.answer = candidate;
      this.render();
    }
  }

  private async exportTo(format: "csv" | "json"): Promise<void> {
    const answer = this.answer;
    if (!answer?.summary) {
      void vscode.window.showInformationMessage("edgewise: open the cost report first (Edgewise: Show Cost Report).");
      return;
    }
    const text = format === "csv" ? (answer.csv ?? "") : `${JSON.stringify(answer.summary, null, 2)}\n`;
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const name = `edgewise-cost-${answer.summary.month.start.slice(0, 7)}.${format}`;
    const target = await vscode.window.showSaveDialog({
      defaultUri: folder ? vscode.Uri.joinPath(folder, name) : undefined,
      filters: format === "csv" ? { CSV: ["csv"] } : { JSON: ["json"] },
    });
    if (!target) {
      return;
    }
    await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(text));
    void vscode.window.setStatusBarMessage(`edgewise: cost figures written to ${target.fsPath}`, 5000);
  }

  private render(): void {
    if (this.panel) {
      this.panel.webview.html = costReportHtml(this.ledger.totals, this.ledger.hidden, this.ledger.entries, this.answer);
    }
  }

  dispose(): void {
    for (const s of this.subscriptions) {
      s.dispose();
    }
    this.panel?.dispose();
  }
}
