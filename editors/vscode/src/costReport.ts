// The cost report: a webview (no scripts) with the session's totals in a table and a
// chart of tokens per request over time, refreshed as requests come in.
import * as vscode from "vscode";
import { compactCount, escapeHtml, money, shortNumber } from "./format";
import { RequestEntry, SessionLedger, saved } from "./ledger";
import { SessionTotals } from "./protocol";

const CHART_WIDTH = 640;
const CHART_HEIGHT = 180;
const RECENT_ROWS = 20;

function row(label: string, value: string): string {
  return `<tr><th scope="row">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`;
}

function totalsTable(totals: SessionTotals, hidden: number): string {
  const currency = totals.currency;
  return `<table class="totals"><tbody>
${row("requests", String(totals.requests))}
${row("prompt tokens", `${totals.tokens_prompt} (${totals.tokens_cached} reused from the cache)`)}
${row("generated tokens", String(totals.tokens_completion))}
${row("model time", `${shortNumber(totals.model_seconds)} s`)}
${row("energy", `${shortNumber(totals.energy_wh)} Wh`)}
${row("local cost (electricity)", money(totals.local_cost, currency))}
${row("cloud-equivalent price", money(totals.cloud_equivalent, currency))}
${row("saved", money(saved(totals), currency))}
${row("completions hidden (below minConfidence)", String(hidden))}
</tbody></table>`;
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
  return `<svg class="chart" role="img" aria-label="tokens per request over time" width="${CHART_WIDTH}" height="${CHART_HEIGHT}" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}">
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
        `<td>${escapeHtml(e.summary.replace(/^edgewise: /, ""))}</td></tr>`,
    )
    .join("\n");
  return `<h2>Recent requests</h2>
<table class="recent"><thead><tr><th>time</th><th>prompt</th><th>generated</th><th>Wh</th><th>cloud price</th><th>report</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

export function costReportHtml(totals: SessionTotals, hidden: number, entries: readonly RequestEntry[]): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline';">
<title>edgewise cost report</title>
<style>
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 16px; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { text-align: left; padding: 3px 12px 3px 0; border-bottom: 1px solid var(--vscode-panel-border, #8884); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.chart .axis { stroke: var(--vscode-foreground); stroke-opacity: 0.5; }
.chart .label { fill: var(--vscode-descriptionForeground); font-size: 11px; }
.prompt { fill: var(--vscode-charts-blue, #3794ff); background: var(--vscode-charts-blue, #3794ff); }
.generated { fill: var(--vscode-charts-orange, #d18616); background: var(--vscode-charts-orange, #d18616); }
.swatch { display: inline-block; width: 10px; height: 10px; margin-left: 8px; }
.empty, .legend { color: var(--vscode-descriptionForeground); }
</style></head>
<body>
<h1>edgewise: this session</h1>
${totalsTable(totals, hidden)}
<h2>Tokens per request</h2>
${tokensChart(entries)}
${recentTable(entries, totals.currency)}
<p class="legend">Energy is the device's power (edgewise.pricing.deviceWatts) times the model's run time; the cloud-equivalent price counts every prompt and generated token at edgewise.pricing's cloud prices.</p>
</body></html>`;
}

export class CostReportPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly ledger: SessionLedger) {
    this.subscription = ledger.onDidChange(() => this.render());
  }

  show(): void {
    if (this.panel) {
      this.panel.reveal();
    } else {
      this.panel = vscode.window.createWebviewPanel("edgewise.costReport", "edgewise cost report", vscode.ViewColumn.Beside, {
        enableScripts: false,
      });
      this.panel.onDidDispose(() => (this.panel = undefined));
    }
    this.render();
  }

  private render(): void {
    if (this.panel) {
      this.panel.webview.html = costReportHtml(this.ledger.totals, this.ledger.hidden, this.ledger.entries);
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.panel?.dispose();
  }
}
