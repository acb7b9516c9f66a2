// Finds the `edgewise` executable: the `edgewise.serverPath` setting, else the active
// Python environment (the Python extension's, or `python.defaultInterpreterPath`), else PATH.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as vscode from "vscode";

// Notifications show plain text (no Markdown): commands and paths in quotes, not backticks.
export const INSTALL_HINT =
  "Install edgewise into your Python environment (in an edgewise checkout: “python -m pip install .”), " +
  "or point edgewise.serverPath at its executable (after “scripts/run” in a checkout: “.venv/bin/edgewise”).";

export type Located =
  | { ok: true; command: string; source: "setting" | "python environment" | "PATH" }
  | { ok: false; message: string };

const EXECUTABLE_NAMES = process.platform === "win32" ? ["edgewise.exe", "edgewise.cmd", "edgewise"] : ["edgewise"];

function isExecutableFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) {
      return false;
    }
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function expandHome(file: string): string {
  return file === "~" || file.startsWith("~/") ? path.join(os.homedir(), file.slice(1)) : file;
}

function inDirectory(dir: string): string | undefined {
  for (const name of EXECUTABLE_NAMES) {
    const candidate = path.join(dir, name);
    if (isExecutableFile(candidate)) {
      return candidate;
    }
  }
  return undefined;
}

interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath?: (resource?: vscode.Uri) => { path: string } | undefined;
    resolveEnvironment?: (
      env: { path: string } | string,
    ) => Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
  };
}

/** The interpreter of the active Python environment, if the Python extension or its setting says. */
async function activePythonInterpreter(resource: vscode.Uri | undefined): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension<PythonExtensionApi>("ms-python.python");
  if (extension) {
    try {
      const api = extension.isActive ? extension.exports : await extension.activate();
      const active = api.environments?.getActiveEnvironmentPath?.(resource);
      if (active) {
        const resolved = await api.environments?.resolveEnvironment?.(active);
        return resolved?.executable?.uri?.fsPath ?? active.path;
      }
    } catch {
      // The Python extension is optional: fall through to its setting and to PATH.
    }
  }
  const configured = vscode.workspace.getConfiguration("python", resource).get<string>("defaultInterpreterPath");
  return configured && configured !== "python" ? expandHome(configured) : undefined;
}

export async function locateServer(configured: string, resource?: vscode.Uri): Promise<Located> {
  if (configured) {
    const file = expandHome(configured);
    if (isExecutableFile(file)) {
      return { ok: true, command: file, source: "setting" };
    }
    return {
      ok: false,
      message: `edgewise: the setting edgewise.serverPath is "${configured}", which is not an executable file. ${INSTALL_HINT}`,
    };
  }
  const python = await activePythonInterpreter(resource);
  if (python) {
    const found = inDirectory(path.dirname(python));
    if (found) {
      return { ok: true, command: found, source: "python environment" };
    }
  }
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const found = dir ? inDirectory(dir) : undefined;
    if (found) {
      return { ok: true, command: found, source: "PATH" };
    }
  }
  return { ok: false, message: `edgewise: the language server (edgewise) was not found. ${INSTALL_HINT}` };
}
