// The settings the server receives: every `edgewise.*` key this extension contributes
// (generated from schemas/config.schema.json, flattened: `edgewise.pricing.deviceWatts`),
// nested back into the server's shape, without the extension's own keys.
import * as vscode from "vscode";

export const SECTION = "edgewise";
/** Keys that belong to the extension only; the server would call them unknown. */
export const CLIENT_ONLY_KEYS = new Set(["serverPath", "trace.server"]);

interface ConfigurationContribution {
  properties?: Record<string, unknown>;
}

/** The setting names (without the `edgewise.` prefix) declared in package.json. */
export function serverSettingKeys(packageJSON: unknown): string[] {
  const contributes = (packageJSON as { contributes?: { configuration?: unknown } }).contributes;
  const configuration = contributes?.configuration;
  let sections: ConfigurationContribution[] = [];
  if (Array.isArray(configuration)) {
    sections = configuration as ConfigurationContribution[];
  } else if (typeof configuration === "object" && configuration !== null) {
    sections = [configuration];
  }
  const keys: string[] = [];
  for (const section of sections) {
    for (const name of Object.keys(section.properties ?? {})) {
      if (!name.startsWith(`${SECTION}.`)) {
        continue;
      }
      const key = name.slice(SECTION.length + 1);
      if (!CLIENT_ONLY_KEYS.has(key)) {
        keys.push(key);
      }
    }
  }
  return keys;
}

/** `pricing.deviceWatts` → `{pricing: {deviceWatts: value}}`. */
export function nest(values: ReadonlyArray<[string, unknown]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [dotted, value] of values) {
    const parts = dotted.split(".");
    let node = out;
    for (const part of parts.slice(0, -1)) {
      const next = node[part];
      if (typeof next !== "object" || next === null) {
        node[part] = {};
      }
      node = node[part] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = value;
  }
  return out;
}

/** What the server gets as initializationOptions and in didChangeConfiguration. */
export function serverSettings(keys: readonly string[], scope?: vscode.ConfigurationScope): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration(SECTION, scope);
  return nest(keys.map((key) => [key, config.get(key)]));
}

export function serverPathSetting(): string {
  return (vscode.workspace.getConfiguration(SECTION).get<string>("serverPath") ?? "").trim();
}
