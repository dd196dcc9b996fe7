import type { RateStep } from "./stats";

/** Size and limit of the knee chart. */
export interface KneeChartOptions {
  /** @default 1000 */
  readonly p99LimitMs?: number;
  /** The knee's rate, marked with a vertical line; none when undefined. */
  readonly kneeRate?: number;
  /** Subtitle: where and when it was measured. */
  readonly caption?: string;
}

const WIDTH = 720;
const HEIGHT = 400;
const MARGIN = { left: 70, right: 20, top: 50, bottom: 55 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;
/** Latency axis, log scale: 1 ms to 100 s covers an idle system and a collapsed one. */
const Y_MIN = 1;
const Y_MAX = 100_000;

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function yOf(ms: number): number {
  const clamped = Math.min(Y_MAX, Math.max(Y_MIN, ms));
  const share = (Math.log10(clamped) - Math.log10(Y_MIN)) / (Math.log10(Y_MAX) - Math.log10(Y_MIN));
  return MARGIN.top + PLOT_H * (1 - share);
}

function xScale(maxRate: number): (rate: number) => number {
  return (rate) => MARGIN.left + (PLOT_W * rate) / maxRate;
}

/** A round axis end above `value`: 1, 2 or 5 times a power of ten. */
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(1, value)));
  return ([1, 2, 5, 10].map((m) => m * power).find((v) => v >= value) ?? 10 * power) as number;
}

const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(1));

function series(steps: readonly RateStep[], x: (r: number) => number, pick: (s: RateStep) => number): string {
  return steps
    .filter((s) => Number.isFinite(pick(s)))
    .map((s) => `${fmt(x(s.rate))},${fmt(yOf(pick(s)))}`)
    .join(" ");
}

/**
 * An SVG line chart of end-to-end latency (p50 and p99, log scale) against the arrival rate, with
 * the p99 limit and the knee marked. Steps that lost events are drawn as red dots.
 */
export function kneeChart(steps: readonly RateStep[], options: KneeChartOptions = {}): string {
  if (steps.length === 0) throw new Error("kneeChart needs at least one step");
  const sorted = [...steps].sort((a, b) => a.rate - b.rate);
  const maxRate = niceCeiling(Math.max(...sorted.map((s) => s.rate)));
  const x = xScale(maxRate);
  const limit = options.p99LimitMs ?? 1000;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    "<title>POST /users to notification recorded: end-to-end latency by arrival rate</title>",
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="20" font-size="15" font-weight="bold">POST /users to notification recorded: latency by arrival rate</text>`,
  );
  if (options.caption)
    parts.push(`<text x="${MARGIN.left}" y="38" fill="#555">${escapeXml(options.caption)}</text>`);
  for (const ms of [1, 10, 100, 1_000, 10_000, 100_000]) {
    const y = fmt(yOf(ms));
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y}" y2="${y}" stroke="#ddd"/>`,
      `<text x="${MARGIN.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`}</text>`,
    );
  }
  for (let i = 0; i <= 5; i++) {
    const rate = (maxRate * i) / 5;
    parts.push(
      `<text x="${fmt(x(rate))}" y="${HEIGHT - MARGIN.bottom + 18}" text-anchor="middle">${fmt(rate)}</text>`,
    );
  }
  parts.push(
    `<text x="${MARGIN.left + PLOT_W / 2}" y="${HEIGHT - 12}" text-anchor="middle">arrival rate (users/s, open model)</text>`,
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${fmt(yOf(limit))}" y2="${fmt(yOf(limit))}" stroke="#c00" stroke-dasharray="6 4"/>`,
    `<text x="${WIDTH - MARGIN.right}" y="${fmt(yOf(limit) - 5)}" text-anchor="end" fill="#c00">p99 limit ${limit} ms</text>`,
  );
  if (options.kneeRate !== undefined) {
    const kx = fmt(x(options.kneeRate));
    parts.push(
      `<line x1="${kx}" x2="${kx}" y1="${MARGIN.top}" y2="${MARGIN.top + PLOT_H}" stroke="#2a7" stroke-dasharray="3 3"/>`,
      `<text x="${kx}" y="${MARGIN.top + 12}" dx="4" fill="#2a7">knee ${options.kneeRate} users/s</text>`,
    );
  }
  parts.push(
    `<polyline class="p50" fill="none" stroke="#36c" stroke-width="2" points="${series(sorted, x, (s) => s.p50)}"/>`,
    `<polyline class="p99" fill="none" stroke="#e80" stroke-width="2" points="${series(sorted, x, (s) => s.p99)}"/>`,
  );
  for (const s of sorted) {
    if (s.lost > 0 && Number.isFinite(s.p99)) {
      parts.push(`<circle class="lost" cx="${fmt(x(s.rate))}" cy="${fmt(yOf(s.p99))}" r="5" fill="#c00"/>`);
    }
  }
  const legendY = MARGIN.top + PLOT_H - 30;
  parts.push(
    `<line x1="${MARGIN.left + 10}" x2="${MARGIN.left + 35}" y1="${legendY}" y2="${legendY}" stroke="#36c" stroke-width="2"/>`,
    `<text x="${MARGIN.left + 40}" y="${legendY + 4}">p50</text>`,
    `<line x1="${MARGIN.left + 10}" x2="${MARGIN.left + 35}" y1="${legendY + 16}" y2="${legendY + 16}" stroke="#e80" stroke-width="2"/>`,
    `<text x="${MARGIN.left + 40}" y="${legendY + 20}">p99 (red dot: events lost)</text>`,
    "</svg>",
  );
  return `${parts.join("\n")}\n`;
}
