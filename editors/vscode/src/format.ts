// Numbers as a person reads them in the status bar, the hover and the cost report.

const SYMBOLS: Record<string, string> = { USD: "$", EUR: "€", GBP: "£" };

/** 950 → "950", 12_400 → "12.4k", 3_200_000 → "3.2M". */
export function compactCount(value: number): string {
  const abs = Math.abs(value);
  if (abs < 1000) {
    return String(Math.round(value));
  }
  if (abs < 1_000_000) {
    return `${trimZero((value / 1000).toFixed(abs < 10_000 ? 2 : 1))}k`;
  }
  return `${trimZero((value / 1_000_000).toFixed(1))}M`;
}

/** Two significant digits below 1, one decimal above: "0.0067", "0.6", "12.4". */
export function shortNumber(value: number): string {
  if (value === 0) {
    return "0";
  }
  if (Math.abs(value) < 1) {
    return trimZero(value.toPrecision(2));
  }
  return trimZero(value.toFixed(1));
}

/** "$0.03", "$0.0016", "0.0016 CHF". Cents once there are any, two significant digits below. */
export function money(value: number, currency: string | null | undefined): string {
  const symbol = currency ? SYMBOLS[currency] : "$";
  const tiny = value !== 0 && Math.abs(value) < 0.0001; // "<$0.0001", not "$8.3e-7"
  const digits = tiny ? "0.0001" : Math.abs(value) >= 0.01 || value === 0 ? value.toFixed(2) : value.toPrecision(2);
  const text = symbol ? `${symbol}${digits}` : `${digits} ${currency ?? ""}`.trim();
  return tiny ? `<${text}` : text;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

export function probability(value: number | null | undefined): string {
  return value === null || value === undefined ? "unknown" : value.toFixed(2);
}

function trimZero(text: string): string {
  return text.includes(".") && !text.includes("e") ? text.replace(/\.?0+$/, "") : text;
}

/** Escapes text for HTML (the cost report webview) and Markdown table cells. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`).replace(/\r?\n/g, " ");
}
