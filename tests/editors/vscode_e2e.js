// Drives VS Code (code-server) in headless Chromium like a user would, and prints what the
// workbench showed as one JSON object on the last line of stdout. tests/editors/test_vscode.py
// starts code-server, runs this script and asserts on the JSON.
//
//   node vscode_e2e.js CONFIG.json
//   CONFIG: {url, chromium, artifacts, file, completionAt: [line, col], typeForCompletion, actionAt: [line, col],
//           hoverAt: [line, col] (inside the text the action inserted), rewriteAt: [line, col],
//           serverPath, badServerPath, newMaxTokens, secondCompletionAt: [line, col]}
//   (lines and columns 1-based, as VS Code's "Go to Line" takes them)
//
// Every step waits on the DOM (never on pixels); a step that times out ends the run with
// `error` set, after a screenshot of the moment it failed.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { chromium } = require("playwright-core");

const config = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
// the text editor of the active editor group (the Settings editor's search box is a Monaco
// editor too, and other groups have editors of their own)
const EDITOR = ".editor-group-container.active .editor-instance > .monaco-editor";
const result = { steps: [], console_errors: [] };
const t0 = Date.now();
const elapsed = () => Number(((Date.now() - t0) / 1000).toFixed(1));

function step(name, data = {}) {
  result.steps.push({ name, at_s: elapsed(), ...data });
  process.stderr.write(`[vscode-e2e ${elapsed()}s] ${name}\n`);
}

async function shot(page, name) {
  const file = path.join(config.artifacts, `vscode-${String(result.steps.length).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

// the extension's own status item ("edgewise · ready", "$(error) edgewise", ...), not a
// transient status bar message such as "edgewise: last prompt: ..."
const MAIN_STATUS = /^\s*edgewise(\s+·|\s*$)/;

function mainStatus(page) {
  return page.locator(".statusbar-item", { hasText: MAIN_STATUS }).first();
}

async function statusText(page) {
  const item = mainStatus(page);
  return (await item.count()) ? (await item.innerText()).trim() : null;
}

async function toasts(page) {
  return page.$$eval(".notification-toast .notification-list-item-message", (els) => els.map((e) => e.textContent));
}

async function waitStatus(page, pattern, timeout) {
  await page.waitForFunction(
    ([source, flags]) => {
      const re = new RegExp(source, flags);
      return [...document.querySelectorAll(".statusbar-item")].some((e) => re.test((e.textContent || "").trim()));
    },
    [pattern.source, pattern.flags],
    { timeout },
  );
}

async function runCommand(page, title) {
  const input = page.locator(".quick-input-widget input");
  for (let attempt = 0; ; attempt++) {
    await page.keyboard.press("F1");
    try {
      await input.waitFor({ state: "visible", timeout: 5000 });
      break;
    } catch (e) {
      if (attempt === 2) {
        throw e;
      }
      await page.keyboard.press("Escape"); // a key press lost while the workbench was busy
    }
  }
  await input.fill(`>${title}`);
  const rows = page.locator(".quick-input-widget .monaco-list-row");
  await rows.filter({ hasText: title }).first().waitFor({ state: "visible", timeout: 20000 });
  // pick the row that is this command, not "... (JSON)" (a remote one ends in "(host:port)")
  const labels = await rows.evaluateAll((els) => els.map((e) => (e.getAttribute("aria-label") || "").split(",")[0].trim()));
  const index = labels.findIndex((l) => l === title || (l.startsWith(`${title} (`) && !l.includes("JSON")));
  for (let i = 0; i < Math.max(0, index); i++) {
    await page.keyboard.press("ArrowDown");
  }
  await page.keyboard.press("Enter");
}

/** Sets a setting in the Settings editor, as a user does. edgewise.serverPath is a machine
 * setting: in code-server (a remote window) those live in the "Remote" settings. */
async function setSetting(page, { remote, key, title, value }) {
  await runCommand(page, remote ? "Preferences: Open Remote Settings" : "Preferences: Open User Settings");
  const search = page.locator(".settings-editor .suggest-input-container").first();
  await search.waitFor({ state: "visible", timeout: 20000 });
  await search.click();
  await page.keyboard.press("Control+A");
  await page.keyboard.type(key);
  const row = page.locator(".settings-editor .setting-item-contents", { hasText: title }).first();
  await row.waitFor({ state: "visible", timeout: 30000 });
  const input = row.locator("input").first();
  await input.fill(value); // applied as typed; the focus stays in the Settings editor
}

async function setServerPath(page, value) {
  await setSetting(page, { remote: true, key: "edgewise.serverPath", title: "Server Path", value });
}

async function openFile(page, name) {
  const activeTab = page.locator(".editor-group-container.active .tab.active", { hasText: name });
  for (let attempt = 0; ; attempt++) {
    await page.keyboard.press("Control+P");
    await page.locator(".quick-input-widget input").waitFor({ state: "visible", timeout: 10000 });
    await page.keyboard.type(name);
    await page.locator(".quick-input-widget .monaco-list-row", { hasText: name }).first().waitFor({ timeout: 20000 });
    await page.waitForTimeout(300); // the list is refreshed as file search results arrive
    await page.keyboard.press("Enter");
    try {
      await activeTab.first().waitFor({ state: "visible", timeout: 10000 });
      break;
    } catch (e) {
      if (attempt === 2) {
        throw e;
      }
      await page.keyboard.press("Escape"); // Enter landed while the list was being replaced
    }
  }
  await page.waitForSelector(`${EDITOR} .view-lines .view-line`, { timeout: 20000 });
}

/** Types at a place, waits for ghost text, accepts it with Tab; returns the ghost text. */
async function acceptGhostText(page, at, typed, shotName) {
  await page.click(`${EDITOR} .view-lines`);
  await goTo(page, at);
  await page.keyboard.type(typed); // VS Code asks for inline completions as the user types
  const ghost = page
    .locator(`${EDITOR} .ghost-text-decoration, ${EDITOR} .ghost-text-decoration-preview, ${EDITOR} .ghost-text`)
    .first();
  await ghost.waitFor({ state: "visible", timeout: 30000 });
  await page.waitForTimeout(300); // the suggestion settles (a newer answer replaces an older one)
  // inline part on the cursor's line (one span per highlighted token; with VS Code's
  // suggest list open, the selected item's rest and then edgewise's continuation), then
  // any further lines
  const text = (
    await page.$$eval(`${EDITOR} .view-lines .ghost-text-decoration, ${EDITOR} .view-lines .ghost-text-decoration-preview`, (els) =>
      els.map((e) => e.textContent).join(""),
    )
  ).replace(/\u00a0/g, " ");
  const more = await page.$$eval(`${EDITOR} .ghost-text .view-line`, (els) =>
    els.map((e) => e.textContent.replace(/\u00a0/g, " ")),
  );
  const suggestList = await page.locator(`${EDITOR} .suggest-widget.visible`).count();
  await shot(page, shotName);
  await page.keyboard.press("Tab");
  await ghost.waitFor({ state: "hidden", timeout: 10000 });
  const suggestListAfter = await page.locator(`${EDITOR} .suggest-widget.visible`).count();
  return { text, more, suggestList: suggestList > 0, suggestListAfter: suggestListAfter > 0 };
}

/** Opens the code action menu at config.actionAt and applies "Add docstring (edgewise)". */
async function pickDocstringAction(page, first) {
  await pickAction(page, "Add docstring (edgewise)", first);
}

/** Opens the code action menu at config.actionAt and applies the action titled `title`. */
async function pickAction(page, title, first) {
  await page.click(`${EDITOR} .view-lines`);
  await goTo(page, config.actionAt);
  const bulb = page.locator(`${EDITOR} .lightBulbWidget`).first();
  try {
    await bulb.waitFor({ state: "visible", timeout: 10000 });
    result.light_bulb = true;
    await bulb.click();
  } catch {
    result.light_bulb = false;
    await page.keyboard.press("Control+Period");
  }
  const action = page.locator(".action-widget .monaco-list-row", { hasText: title }).first();
  await action.waitFor({ state: "visible", timeout: 20000 });
  if (first) {
    result.action_menu = await page.$$eval(".action-widget .monaco-list-row", (rows) => rows.map((r) => r.textContent));
    step("code action menu", { menu: result.action_menu, light_bulb: result.light_bulb });
    await shot(page, "code-action-menu");
  }
  // the menu opens with the first action focused; pick ours with the keyboard
  for (let i = 0; i < 8; i++) {
    const focused = await page.locator(".action-widget .monaco-list-row.focused").first().getAttribute("aria-label").catch(() => null);
    if (focused === title) {
      break;
    }
    await page.keyboard.press("ArrowDown");
  }
  // Enter applies the focused action and closes the menu
  const menu = page.locator(".action-widget").first();
  result.action_enter_presses = 0;
  for (let i = 0; i < 3 && (await menu.isVisible()); i++) {
    await page.keyboard.press("Enter");
    result.action_enter_presses++;
    await menu.waitFor({ state: "hidden", timeout: 5000 }).catch(() => undefined);
  }
}

async function goTo(page, [line, column]) {
  await page.keyboard.press("Control+G");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout: 10000 });
  await input.fill(`:${line}:${column}`);
  await page.keyboard.press("Enter");
  await input.waitFor({ state: "hidden", timeout: 10000 });
}

/** The editor's lines from line 1, scrolled to the start (a long line is in the DOM only
 * as far as it shows). Moves the cursor to the top. */
async function linesFromTop(page) {
  await page.click(`${EDITOR} .view-lines`);
  await page.keyboard.press("Control+Home");
  await page.waitForTimeout(300);
  return editorLines(page);
}

/** The text of the editor's visible lines, top to bottom (VS Code renders with nbsp). */
async function editorLines(page) {
  return page.$$eval(`${EDITOR} .view-lines .view-line`, (lines) =>
    lines
      .map((l) => ({ top: parseFloat(l.style.top || "0"), text: l.textContent.replace(/\u00a0/g, " ") }))
      .sort((a, b) => a.top - b.top)
      .map((l) => l.text),
  );
}

/** Whether the first edgewise Problems row shows how sure the model was (its message up
 * to the end of the first part, "… %(…)") inside what is visible of the row. */
async function confidenceFits(page) {
  return page.evaluate(() => {
    const row = [...document.querySelectorAll(".markers-panel .monaco-list-row")].find((r) =>
      /completion:inline/.test(r.textContent || ""),
    );
    if (!row) {
      return { error: "no completion row" };
    }
    const walker = document.createTreeWalker(row, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent || "";
      const match = /(likely right|model's confidence): [^)]*\)/.exec(text);
      if (!match) {
        continue;
      }
      const range = document.createRange();
      range.setStart(node, 0);
      range.setEnd(node, match.index + match[0].length);
      const right = range.getBoundingClientRect().right;
      let visible = row.getBoundingClientRect().right;
      for (let e = node.parentElement; e && e !== row.parentElement; e = e.parentElement) {
        if (getComputedStyle(e).overflow !== "visible") {
          visible = Math.min(visible, e.getBoundingClientRect().right);
        }
      }
      const panel = document.querySelector(".markers-panel");
      if (panel) {
        visible = Math.min(visible, panel.getBoundingClientRect().right);
      }
      return { text: text.slice(0, match.index + match[0].length), right, visible, fits: right <= visible };
    }
    return { error: "no confidence in the row", text: row.textContent };
  });
}

/** 1-based numbers of the editor's lines that carry a squiggle of `kind` (squiggly-info, ...). */
async function squiggleLines(page, kind) {
  return page.evaluate(
    ([editor, kind]) => {
      const tops = [...document.querySelectorAll(`${editor} .view-lines .view-line`)]
        .map((l) => parseFloat(l.style.top || "0"))
        .sort((a, b) => a - b);
      const lines = new Set();
      for (const squiggle of document.querySelectorAll(`${editor} .view-overlays .${kind}`)) {
        const top = parseFloat(squiggle.parentElement.style.top || "0");
        const index = tops.findIndex((t) => Math.abs(t - top) < 1);
        if (index >= 0) {
          lines.add(index + 1);
        }
      }
      return [...lines].sort((a, b) => a - b);
    },
    [EDITOR, kind],
  );
}

async function problems(page) {
  return page.$$eval(".markers-panel .monaco-list-row", (rows) =>
    rows.map((r) => r.getAttribute("aria-label") || r.textContent || ""),
  );
}

(async () => {
  const browser = await chromium.launch({
    executablePath: config.chromium,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-dev-shm-usage",
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on("console", (m) => {
    if (m.type() === "error") {
      result.console_errors.push(m.text().slice(0, 300));
    }
  });
  result.browser = browser.version();
  try {
    await page.goto(config.url);
    await page.waitForSelector(".monaco-workbench", { timeout: 60000 });
    step("workbench");

    // open the Python file with Quick Open, as a user would
    await page.waitForTimeout(1000);
    await openFile(page, config.file);
    step("editor open");

    // the extension activates on Python and starts `edgewise serve`
    // (read when it shows: the model may start loading right after, "loading the model")
    const ready = await page.waitForFunction(
      () =>
        [...document.querySelectorAll(".statusbar-item")]
          .map((e) => (e.textContent || "").trim())
          .find((t) => /^edgewise · ready$/.test(t)),
      null,
      { timeout: 60000 },
    );
    result.status_ready = await ready.jsonValue();
    step("server ready", { status: result.status_ready });
    await shot(page, "ready");

    // inline completion: cursor on the empty line in the loop; ghost text appears as the user types
    result.lines_before = await editorLines(page);
    const accepted = await acceptGhostText(page, config.completionAt, config.typeForCompletion, "ghost-text");
    result.ghost_text = accepted.text;
    result.ghost_more_lines = accepted.more;
    result.suggest_list_with_ghost_text = accepted.suggestList;
    result.suggest_list_after_tab = accepted.suggestListAfter;
    result.lines_after_accept = await editorLines(page);
    step("ghost text accepted", { ghost: result.ghost_text });

    // the accepted completion's report: the `edgewise` diagnostic in the Problems panel
    await page.keyboard.press("Control+Shift+M");
    await page.waitForFunction(
      () => [...document.querySelectorAll(".markers-panel .monaco-list-row")].some((r) => /edgewise/.test(r.getAttribute("aria-label") || "")),
      null,
      { timeout: 30000 },
    );
    result.problems_after_completion = await problems(page);
    result.completion_row_fit = await confidenceFits(page);
    step("completion diagnostic", { fit: result.completion_row_fit });
    await shot(page, "problems-completion");

    // the docstring code action from the light bulb (or the quick-fix menu, Ctrl+.); a
    // menu pick lost while the workbench was busy (no request reached the server) is
    // made again, as a user would
    const statusBefore = await statusText(page);
    result.action_attempts = 0;
    for (;;) {
      result.action_attempts++;
      await pickDocstringAction(page, result.action_attempts === 1);
      const started = await page
        .waitForFunction(
          (before) => {
            const problems = [...document.querySelectorAll(".markers-panel .monaco-list-row")].filter((r) =>
              /edgewise/.test(r.getAttribute("aria-label") || ""),
            ).length;
            const status = [...document.querySelectorAll(".statusbar-item")].map((e) => (e.textContent || "").trim());
            const docstring = [...document.querySelectorAll(".view-line")].some((l) => /^\s*"""/.test((l.textContent || "").replace(/\u00a0/g, " ")));
            return problems >= 2 || !status.includes(before) || document.querySelector(".statusbar-item .codicon-sync") !== null || docstring;
          },
          statusBefore,
          { timeout: 15000 },
        )
        .then(() => true)
        .catch(() => false);
      if (started || result.action_attempts === 3) {
        break;
      }
    }
    await page.waitForFunction(
      () => [...document.querySelectorAll(".markers-panel .monaco-list-row")].filter((r) => /edgewise/.test(r.getAttribute("aria-label") || "")).length >= 2,
      null,
      { timeout: 60000 },
    );
    result.lines_after_action = await editorLines(page);
    result.problems_after_action = await problems(page);
    result.info_squiggle_lines = await squiggleLines(page, "squiggly-info");
    step("action diagnostic", { squiggles: result.info_squiggle_lines });
    await shot(page, "problems-action");

    // deleting the accepted completion's line (Delete Line) removes its report's row
    // (VS Code puts only the visible part of a long line into the DOM: found by its start)
    const full = result.lines_after_accept[config.completionAt[0] - 1];
    const head = full.slice(0, Math.min(full.length, 40));
    const acceptedLine = result.lines_after_action.findIndex((l) => l.startsWith(head)) + 1;
    result.deleted_line = acceptedLine;
    if (acceptedLine > 0) {
      await page.click(`${EDITOR} .view-lines`);
      await goTo(page, [acceptedLine, 1]);
      await page.keyboard.press("Control+Shift+K");
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll(".markers-panel .monaco-list-row")].filter((r) =>
            /completion:inline/.test(r.textContent || ""),
          ).length === 0,
        null,
        { timeout: 15000 },
      );
    }
    result.problems_after_delete = await problems(page);
    result.lines_after_delete = await editorLines(page);
    step("completion line deleted");
    await shot(page, "problems-after-delete");

    // the status bar shows the session's cost once the server is idle again
    await page.waitForFunction(
      () => [...document.querySelectorAll(".statusbar-item")].some((e) => /edgewise · [\d.]+[kM]? tok/.test(e.textContent || "") && !e.querySelector(".codicon-sync")),
      null,
      { timeout: 30000 },
    );
    result.status_after = await statusText(page);
    step("status bar", { status: result.status_after });

    // hovering the report diagnostic shows the whole report
    await page.click(`${EDITOR} .view-lines`);
    await goTo(page, config.hoverAt);
    await page.keyboard.press("Control+K");
    await page.keyboard.press("Control+I");
    const hover = page.locator(".monaco-hover", { hasText: "edgewise report" }).first();
    await hover.waitFor({ state: "visible", timeout: 15000 });
    result.hover = (await hover.innerText()).trim();
    step("hover");
    await shot(page, "hover");
    await page.keyboard.press("Escape");

    // Explain: a progress notification while the model runs, then the explanation
    // beside the code (a second editor group), the code's editor still in front
    const progress = page
      .waitForFunction(
        () =>
          [...document.querySelectorAll(".notification-toast .notification-list-item-message")].some((e) =>
            /edgewise: Explain/.test(e.textContent || ""),
          ),
        null,
        { timeout: 60000, polling: 50 },
      )
      .then(async () => {
        await shot(page, "explain-progress");
        return true;
      })
      .catch(() => false);
    // a menu pick lost while the workbench was busy (nothing started) is made again
    const explainTab = page.locator(".tab", { hasText: /explain-.*\.md/ }).first();
    for (result.explain_attempts = 1; ; result.explain_attempts++) {
      await pickAction(page, "Explain (edgewise)", false);
      const started = await page
        .waitForFunction(
          () =>
            [...document.querySelectorAll(".notification-toast .notification-list-item-message, .tab")].some((e) =>
              /edgewise: Explain|explain-.*\.md/.test(e.textContent || ""),
            ) || document.querySelector(".statusbar-item .codicon-sync") !== null,
          null,
          { timeout: 15000 },
        )
        .then(() => true)
        .catch(() => false);
      if (started || result.explain_attempts === 3) {
        break;
      }
      await page.keyboard.press("Escape");
    }
    await explainTab.waitFor({ timeout: 60000 });
    result.explain_progress_seen = await Promise.race([progress, page.waitForTimeout(5000).then(() => false)]);
    await page.waitForTimeout(500);
    result.explain_layout = await page.evaluate(() => {
      const groups = [...document.querySelectorAll(".editor-group-container")];
      const tabsOf = (g) => [...g.querySelectorAll(".tab")].map((t) => (t.textContent || "").trim());
      const active = document.querySelector(".editor-group-container.active");
      return {
        groups: groups.map(tabsOf),
        activeTabs: active ? tabsOf(active) : [],
        activeTab: active?.querySelector(".tab.active")?.textContent?.trim() ?? null,
      };
    });
    step("explain", { layout: result.explain_layout, progress: result.explain_progress_seen });
    await shot(page, "explain-beside");
    // close the explanation (its group goes with it), back to files.py
    await page.keyboard.press("Control+2");
    await page.keyboard.press("Control+W");
    await page.keyboard.press("Control+1");

    // clicking the status bar item opens the cost report
    await mainStatus(page).click();
    await page.locator(".tab", { hasText: "edgewise cost report" }).first().waitFor({ timeout: 15000 });
    let reportText = null;
    for (let i = 0; i < 40 && !reportText; i++) {
      for (const frame of page.frames()) {
        const text = await frame.evaluate(() => (document.body ? document.body.innerText : "")).catch(() => "");
        if (text.includes("edgewise: this session")) {
          reportText = text;
          result.cost_report_has_chart = await frame.evaluate(() => !!document.querySelector("svg.chart rect"));
        }
      }
      if (!reportText) {
        await page.waitForTimeout(250);
      }
    }
    result.cost_report = reportText;
    step("cost report");
    await shot(page, "cost-report");
    // the report opens in the editor area, over files.py: close it, as a person would
    await runCommand(page, "View: Close Editor");
    await page.locator(".tab", { hasText: "edgewise cost report" }).first().waitFor({ state: "hidden", timeout: 15000 });

    // the last prompt, read-only
    await runCommand(page, "Edgewise: Show Last Prompt");
    await page.locator(".tab", { hasText: "last-prompt.txt" }).first().waitFor({ timeout: 15000 });
    await page.waitForTimeout(500);
    result.last_prompt_lines = await page.$$eval(`${EDITOR} .view-lines .view-line`, (lines) =>
      lines
        .map((l) => ({ top: parseFloat(l.style.top || "0"), text: l.textContent.replace(/\u00a0/g, " ") }))
        .sort((a, b) => a.top - b.top)
        .map((l) => l.text),
    );
    step("last prompt");
    await shot(page, "last-prompt");
    result.notifications = await toasts(page);

    // Rewrite Selection…: an input box for the instruction, then the server's answer
    await runCommand(page, "Notifications: Clear All Notifications");
    await page.keyboard.press("Control+1"); // back to files.py
    await goTo(page, config.rewriteAt);
    await page.keyboard.press("End");
    await page.keyboard.press("Shift+Home");
    await runCommand(page, "Edgewise: Rewrite Selection…");
    const instruction = page.locator(".quick-input-widget input");
    await instruction.waitFor({ state: "visible", timeout: 10000 });
    result.rewrite_prompt = await page.locator(".quick-input-widget").innerText();
    await instruction.fill("use a list comprehension");
    await page.keyboard.press("Enter");
    // the server's answer (not its progress notification): the tiny model's rewrite is
    // refused by the syntax gate, or an older server does not know the command
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll(".notification-toast .notification-list-item-message")].some((e) =>
          /rewrite not applied|not rewritten|does not know the command|rewrite failed/.test(e.textContent || ""),
        ),
      null,
      { timeout: 60000 },
    );
    result.rewrite_notifications = await toasts(page);
    step("rewrite selection");
    await shot(page, "rewrite");

    // Rewrite Selection… on a line inside the docstring (text the syntax gate lets through
    // whatever the tiny model writes): VS Code's refactor preview shows the change, the
    // document stays as it is until Apply, then the change and its report are in
    await runCommand(page, "Notifications: Clear All Notifications");
    await page.keyboard.press("Control+1");
    await page.click(`${EDITOR} .view-lines`);
    await page.keyboard.press("Control+Home"); // line 1 on top: the DOM's lines are the file's
    await page.waitForTimeout(300);
    const linesNow = await editorLines(page);
    const opening = linesNow.findIndex((l, i) => i >= config.actionAt[0] && l.trimStart().startsWith('"""'));
    const closing = linesNow.findIndex((l, i) => i > opening && l.trimEnd().endsWith('"""'));
    result.preview = { opening: opening + 1, closing: closing + 1 };
    if (opening >= 0 && closing > opening + 1) {
      const target = opening + 2; // 1-based: the docstring's second line
      result.preview.line = target;
      const diffTab = page.locator(".tab", { hasText: "(preview)" }).first();
      const ask = page.locator(".notification-toast", { hasText: "apply this change?" }).first();
      const askForRewrite = async () => {
        await page.click(`${EDITOR} .view-lines`);
        await goTo(page, [target, 1]);
        await page.keyboard.press("End");
        await page.keyboard.press("Shift+Home");
        await runCommand(page, "Edgewise: Rewrite Selection…");
        const box = page.locator(".quick-input-widget input");
        await box.waitFor({ state: "visible", timeout: 10000 });
        await box.fill("say it shorter");
        await page.keyboard.press("Enter");
        // the change as a diff beside the code, and a notification asking to apply it
        await ask.waitFor({ state: "visible", timeout: 90000 });
        await diffTab.waitFor({ state: "visible", timeout: 15000 });
        await page.waitForTimeout(500);
      };
      result.preview.before = await linesFromTop(page);

      // Discard: the diff closes, the code stays as it was, no warning
      await askForRewrite();
      await ask.locator(".monaco-button", { hasText: "Discard" }).first().click();
      await diffTab.waitFor({ state: "hidden", timeout: 15000 });
      await page.waitForTimeout(1000);
      await page.keyboard.press("Control+1");
      result.preview.after_discard = await linesFromTop(page);
      result.preview.toasts_after_discard = await toasts(page);
      result.preview.status_after_discard = await page.$$eval(".statusbar-item", (els) => els.map((e) => (e.textContent || "").trim()));
      step("rewrite discarded");
      await shot(page, "rewrite-discarded");

      // asked again: Apply
      await askForRewrite();
      result.preview.ask = (await ask.innerText()).trim();
      result.preview.diff_tab = (await diffTab.innerText()).trim();
      result.preview.diff_editor = (await page.locator(".monaco-diff-editor").count()) > 0;
      await page.keyboard.press("Control+1");
      result.preview.during = await linesFromTop(page);
      step("rewrite preview", { ask: result.preview.ask, tab: result.preview.diff_tab });
      await shot(page, "rewrite-preview");
      await ask.locator(".monaco-button", { hasText: "Apply" }).first().click();
      await diffTab.waitFor({ state: "hidden", timeout: 15000 });
      await page.keyboard.press("Control+Shift+M");
      await page.waitForFunction(
        () => [...document.querySelectorAll(".markers-panel .monaco-list-row")].some((r) => /action:rewrite/.test(r.textContent || "")),
        null,
        { timeout: 30000 },
      );
      result.preview.after = await linesFromTop(page);
      result.preview.rows = await page.$$eval(".markers-panel .monaco-list-row", (rows) => rows.map((r) => r.textContent || ""));
      step("rewrite applied");
      await shot(page, "rewrite-applied");
    }

    // Edgewise: Restart Server starts a new server (and a new session)
    await runCommand(page, "Notifications: Clear All Notifications");
    await runCommand(page, "Edgewise: Restart Server");
    await waitStatus(page, /^edgewise · ready$/, 60000);
    step("restarted");

    // a wrong edgewise.serverPath: one clear notification, an error in the status bar ...
    await setServerPath(page, config.badServerPath);
    await page.waitForFunction(
      () => [...document.querySelectorAll(".notification-toast .notification-list-item-message")].some((e) => /edgewise\.serverPath/.test(e.textContent || "")),
      null,
      { timeout: 30000 },
    );
    await page.waitForTimeout(1000); // a second notification would show up by now
    result.missing_server_notifications = await toasts(page);
    result.status_missing_server = await mainStatus(page).evaluate((e) => ({ text: e.textContent.trim(), error: !!e.querySelector(".codicon-error") }));
    step("wrong server path");
    await shot(page, "wrong-server-path");
    // ... and the right one again restarts it
    await setServerPath(page, config.serverPath);
    await waitStatus(page, /^edgewise · ready$/, 60000);
    step("server path restored");

    // a changed setting reaches the running server (workspace/didChangeConfiguration)
    await setSetting(page, { remote: false, key: "edgewise.maxTokens", title: "Max Tokens", value: String(config.newMaxTokens) });
    await page.waitForTimeout(1000);
    await openFile(page, config.file);
    await acceptGhostText(page, config.secondCompletionAt, config.typeForCompletion, "ghost-text-after-setting");
    await page.keyboard.press("Control+Shift+M");
    await page.waitForFunction(
      () => [...document.querySelectorAll(".markers-panel .monaco-list-row")].some((r) => /edgewise/.test(r.getAttribute("aria-label") || "")),
      null,
      { timeout: 30000 },
    );
    result.problems_after_setting = await problems(page);
    step("setting changed");
    await shot(page, "setting-changed");
  } catch (e) {
    result.error = String(e).slice(0, 1000);
    try {
      result.failure_screenshot = await shot(page, "failure");
      result.notifications = await toasts(page);
      result.status_at_failure = await statusText(page);
      result.problems_at_failure = await problems(page);
      result.lines_at_failure = await editorLines(page);
    } catch {
      // the page is gone; the error says why
    }
  }
  result.total_s = elapsed();
  await browser.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(result.error ? 1 : 0);
})();
