// Hovering an `edgewise` diagnostic shows its whole report (the diagnostic's `data`,
// schemas/report.schema.json) as a readable table, with a link to the raw JSON.
import * as vscode from "vscode";
import { escapeMarkdown, money, probability, seconds, shortNumber } from "./format";
import { DIAGNOSTIC_SOURCE, Report, isReport } from "./protocol";

export const SHOW_REPORT_JSON = "edgewise.showReportJson";

/** The reports carried by the `edgewise` diagnostics the server last published, per document. */
export class ReportStore {
  private readonly byUri = new Map<string, { range: vscode.Range; report: Report }[]>();

  /** Called from the language client's diagnostics middleware with the converted diagnostics. */
  update(uri: vscode.Uri, diagnostics: readonly vscode.Diagnostic[]): void {
    const found: { range: vscode.Range; report: Report }[] = [];
    for (const diagnostic of diagnostics) {
      const data = (diagnostic as vscode.Diagnostic & { data?: unknown }).data;
      if (diagnostic.source === DIAGNOSTIC_SOURCE && isReport(data)) {
        found.push({ range: diagnostic.range, report: data });
      }
    }
    if (found.length > 0) {
      this.byUri.set(uri.toString(), found);
    } else {
      this.byUri.delete(uri.toString());
    }
  }

  at(uri: vscode.Uri, position: vscode.Position): Report[] {
    return (this.byUri.get(uri.toString()) ?? [])
      .filter(({ range }) => range.contains(position))
      .map(({ report }) => report);
  }

  byId(id: string): Report | undefined {
    for (const entries of this.byUri.values()) {
      const hit = entries.find(({ report }) => report.id === id);
      if (hit) {
        return hit.report;
      }
    }
    return undefined;
  }

  clear(): void {
    this.byUri.clear();
  }
}

function cell(text: string): string {
  return escapeMarkdown(text);
}

/** "likely right: 27 % (calibrated on your code)": how sure, in the words of the
 * diagnostic's message; a calibrated score is the measured share of such suggestions
 * that were right. */
export function sureness(conf: Report["confidence"]): string {
  if (conf.score === null) {
    return "unknown";
  }
  const percent = conf.score > 0 && conf.score < 0.005 ? "<1 %" : `${Math.round(conf.score * 100)} %`;
  if (conf.calibrated) {
    const where = conf.calibration?.source === "bundled" ? "sample code" : "your code";
    const samples = conf.calibration ? `, ${conf.calibration.samples} samples` : "";
    return `likely right: ${percent} (calibrated on ${where}${samples})`;
  }
  return `model's confidence: ${percent} (not calibrated)`;
}

function callCost(call: Pick<Report, "tokens" | "time_ms" | "cost">): string {
  const { tokens, time_ms: time, cost } = call;
  return (
    `${tokens.prompt} prompt${tokens.cached ? ` (${tokens.cached} reused)` : ""} + ${tokens.completion} generated tokens, ` +
    `${seconds(time.total)}, ${shortNumber(cost.energy_wh)} Wh: ${money(cost.local, cost.currency)} locally, ` +
    `≈${money(cost.cloud_equivalent, cost.currency)} at cloud prices`
  );
}

export function reportMarkdown(report: Report): vscode.MarkdownString {
  const cost = report.cost;
  const conf = report.confidence;
  const tokens = report.tokens;
  const time = report.time_ms;
  const what = report.kind === "completion" ? `completion (${report.action})` : `code action: ${report.action}`;
  const served = report.cache === "hit" ? "served again from the cache" : report.cache === "type-through" ? "typed through" : undefined;
  // what a person looks for first: how sure, then what it cost; the details after
  const rows: [string, string][] = [["how sure", sureness(conf)]];
  if (report.verified.syntax_ok === false) {
    rows.push(["NOT verified", report.verified.reason]);
  }
  if (served && report.produced_by) {
    rows.push(["cost", `${served}, no model call; made by a call of ${callCost(report.produced_by)}`]);
  } else if (served) {
    rows.push(["cost", `${served}, no model call`]);
  } else {
    rows.push(["cost", callCost(report)]);
  }
  rows.push([
    "confidence details",
    `score ${probability(conf.score)}` +
      (conf.raw_score !== undefined && conf.raw_score !== null && conf.calibrated ? ` (raw ${probability(conf.raw_score)})` : "") +
      `; lowest token p ${probability(conf.min_prob)}` +
      (conf.first_margin !== undefined && conf.first_margin !== null ? `; first-token margin ${probability(conf.first_margin)}` : "") +
      (conf.method ? `; ${conf.method}` : ""),
  ]);
  if (conf.low_spans.length > 0) {
    const spans = conf.low_spans
      .slice(0, 5)
      .map((s) => `line ${s.start.line + 1}${s.text ? ` “${s.text.trim().slice(0, 30)}”` : ""} p=${s.min_prob.toFixed(2)}`)
      .join("; ");
    rows.push([`unsure spans (p < ${conf.threshold ?? "?"})`, spans + (conf.low_spans.length > 5 ? "; …" : "")]);
  }
  rows.push([
    "tokens",
    `${tokens.prompt} prompt${tokens.cached ? ` (${tokens.cached} reused)` : ""} + ${tokens.completion} generated` +
      (tokens.whole_file !== undefined ? `; the whole file: ${tokens.whole_file}` : "") +
      (tokens.source && tokens.source !== "measured" ? ` (${tokens.source})` : ""),
  ]);
  rows.push([
    "time",
    `${seconds(time.total)} (prompt ${seconds(time.prompt)}, generation ${seconds(time.generation)}` +
      (time.queue !== undefined ? `, queue ${seconds(time.queue)}` : "") +
      ")",
  ]);
  rows.push(["energy", `${shortNumber(cost.energy_wh)} Wh`]);
  rows.push([
    "verified",
    report.verified.syntax_ok === null
      ? `not checked${report.verified.reason ? `: ${report.verified.reason}` : ""}`
      : `${report.verified.syntax_ok ? "syntax ok" : "NOT ok"}${report.verified.reason ? `: ${report.verified.reason}` : ""}` +
          (report.verified.attempts && report.verified.attempts > 1 ? ` (${report.verified.attempts} attempts)` : ""),
  ]);
  rows.push([
    "model",
    `${report.model.name}${report.model.backend ? ` (${report.model.backend})` : ""}, sha256 ${report.model.sha256.slice(0, 12)}`,
  ]);
  rows.push([
    "sampling",
    `${report.prompt_format ? `${report.prompt_format} prompt, ` : ""}temperature ${report.sampler.temperature}` +
      `${report.sampler.strategy ? ` (${report.sampler.strategy})` : ""}, seed ${report.seed}` +
      (report.stop_reason ? `, stopped: ${report.stop_reason}` : ""),
  ]);
  const md = new vscode.MarkdownString(undefined, true);
  md.isTrusted = { enabledCommands: [SHOW_REPORT_JSON] };
  const args = encodeURIComponent(JSON.stringify([report.id]));
  // the link first: a long table is scrolled, the link is always in view
  md.appendMarkdown(`**edgewise report** · ${cell(what)} · [whole report (JSON)](command:${SHOW_REPORT_JSON}?${args})\n\n`);
  md.appendMarkdown(`| | |\n|---|---|\n`);
  for (const [name, value] of rows) {
    md.appendMarkdown(`| ${cell(name)} | ${cell(value)} |\n`);
  }
  return md;
}

export class ReportHoverProvider implements vscode.HoverProvider {
  constructor(private readonly store: ReportStore) {}

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const reports = this.store.at(document.uri, position);
    if (reports.length === 0) {
      return undefined;
    }
    return new vscode.Hover(reports.map(reportMarkdown));
  }
}
