// Bundles the extension and its JavaScript dependencies (vscode-languageclient) into
// dist/extension.js, so the .vsix needs no node_modules. `vscode` is provided by the editor.
import { build } from "esbuild";

await build({
  entryPoints: ["src/extension.ts"],
  outfile: "dist/extension.js",
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  external: ["vscode"],
  sourcemap: false,
  minify: false,
  logLevel: "warning",
});
