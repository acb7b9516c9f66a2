// Renders the VS Code cost view (editors/vscode/src/costReport.ts, bundled by the test
// with `vscode` stubbed: the HTML needs none of it) from a cost answer the test built
// with the server's own code, in headless Chromium at a wide and a narrow width;
// measures horizontal overflow and takes a screenshot of each.
//   node cost_view_shot.js BUNDLE ANSWER.json OUT_DIR
const fs = require("node:fs");
const path = require("node:path");
const { chromium } = require("playwright-core");

async function main() {
  const [bundle, answerFile, outDir] = process.argv.slice(2);
  const { costReportHtml } = require(path.resolve(bundle));
  const answer = JSON.parse(fs.readFileSync(answerFile, "utf8"));
  const entries = (answer.entries || []).map((e, i) => ({ ...e, time: Date.parse("2026-12-02T10:00:00Z") + i * 60000 }));
  const html = costReportHtml(answer.session, answer.session.hidden || 0, entries, answer);
  fs.mkdirSync(outDir, { recursive: true });
  const page_file = path.join(outDir, "cost-view.html");
  fs.writeFileSync(page_file, html);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium" });
  const out = { html: page_file, widths: {} };
  try {
    for (const width of [1000, 560]) {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      await page.goto(`file://${page_file}`);
      const measured = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
        text: document.body.innerText,
      }));
      const shot = path.join(outDir, `vscode-cost-view-${width}px.png`);
      await page.screenshot({ path: shot, fullPage: true });
      out.widths[width] = { ...measured, screenshot: shot };
      await page.close();
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
