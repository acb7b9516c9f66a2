// The extension's real status item (editors/vscode/src/statusBar.ts and the session
// ledger) fed `edgewise/status` notifications carrying the `notice` and `budget` fields of
// the shared contract; prints what the item showed at each moment as one JSON line.
// Bundled by tests/editors/test_vscode_status.py with `vscode` aliased to vscode_stub.js.
"use strict";
const vscode = require("vscode");
const { SessionLedger } = require("../../../editors/vscode/src/ledger");
const { StatusBar } = require("../../../editors/vscode/src/statusBar");

const session = (requests) => ({
  requests,
  tokens_prompt: 120 * requests,
  tokens_completion: 12 * requests,
  tokens_cached: 0,
  model_seconds: 0.4 * requests,
  energy_wh: 0.003 * requests,
  local_cost: 0.000001 * requests,
  cloud_equivalent: 0.0005 * requests,
  currency: "USD",
});

(async () => {
  const ledger = new SessionLedger();
  const status = new vscode.EventEmitter();
  const bar = new StatusBar(ledger, status.event);
  const item = vscode.window.items[0];
  const seen = {};
  const look = () => ({ text: item.text, tooltip: item.tooltip, background: item.backgroundColor?.id ?? null });
  const send = (params) => {
    ledger.onStatus(params);
    status.fire(params);
  };
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  send({ state: "idle", session: session(1) });
  seen.plain = look();
  // a suggestion hidden for low confidence: the notice, for its `ms`
  send({
    state: "idle",
    session: session(2),
    hidden: 1,
    notice: { kind: "hidden", text: "hidden: not sure enough (0.03)", ms: 400 },
    budget: { text: "this week: 61 % of budget", level: "ok", percent: 61.0 },
  });
  seen.notice = look();
  await sleep(100);
  send({ state: "idle", session: session(2), hidden: 1 }); // a status without a notice
  seen.notice_still = look();
  await sleep(500);
  seen.after_notice = look();
  send({ state: "idle", session: session(3), budget: { text: "this week: 85 % of budget", level: "warn", percent: 85 } });
  seen.warn = look();
  send({ state: "busy", session: session(3) });
  seen.busy_keeps_budget = look();
  send({ state: "idle", session: session(4), budget: { text: "this week: 100 % of budget", level: "limit", percent: 100 } });
  seen.limit = look();
  send({ state: "idle", session: session(4), budget: null });
  seen.no_budget = look();
  send({ state: "idle", session: session(4), notice: { kind: "hidden", text: "", ms: 4000 } });
  seen.empty_notice = look();
  bar.dispose();
  process.stdout.write(`${JSON.stringify(seen)}\n`);
})();
