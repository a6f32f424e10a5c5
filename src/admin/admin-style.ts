import { BAR_STEP } from "./admin-usage-page.js";

/** A bar's widths, one rule per step: the CSP allows no style attribute, so a bar's length is a class. */
const BAR_WIDTHS = Array.from({ length: 100 / BAR_STEP + 1 }, (_, i) => `.bar > .w${i * BAR_STEP} { width: ${i * BAR_STEP}%; }`).join("\n");

/** The admin page's stylesheet, served at /admin/admin.css (the pages' CSP allows styles from the page's origin only). */
export const ADMIN_CSS = `
:root { color-scheme: light; --ink: #1d232b; --muted: #5c6773; --line: #dde2e8; --soft: #f4f6f8; --accent: #2f5fd0; --bad: #b3261e; --good: #1e7a3c; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; color: var(--ink); background: #fff; }
header { display: flex; gap: 24px; align-items: center; padding: 10px 24px; background: #1d232b; color: #fff; }
header nav a { color: #cfd8e3; margin-right: 16px; text-decoration: none; }
header nav a:hover { color: #fff; }
main { padding: 8px 24px 32px; max-width: 1400px; }
h2 { margin: 28px 0 8px; font-size: 18px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { margin: 18px 0 6px; font-size: 15px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); font-weight: 600; font-size: 12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.id { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; word-break: break-all; max-width: 360px; }
td.message { max-width: 420px; }
td.empty { color: var(--muted); font-style: italic; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; background: var(--soft); padding: 1px 4px; border-radius: 3px; word-break: break-all; }
small { color: var(--muted); }
time, .nowrap, .nowrap code { white-space: nowrap; word-break: normal; }
.state { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 12px; }
.state.running { background: #e3f4e8; color: var(--good); }
.state.sleeping { background: #eceff3; color: var(--muted); }
.state.paused { background: #fdf0e0; color: var(--bad); }
.over { color: var(--bad); font-weight: 600; }
.warn { color: var(--bad); }
.note { color: var(--muted); }
.flash { padding: 8px 12px; background: #eef3fd; border: 1px solid #c8d6f5; border-radius: 4px; }
.flash.warn { background: #fdeeee; border-color: #f1c4c1; }
details.kill summary { cursor: pointer; color: var(--bad); list-style: none; }
details.kill summary::-webkit-details-marker { display: none; }
details.kill button { margin-top: 4px; background: var(--bad); color: #fff; border: 0; border-radius: 3px; padding: 4px 8px; cursor: pointer; }
footer { margin-top: 24px; color: var(--muted); font-size: 12px; }
tr.today td { background: #f7f9fe; font-weight: 600; }
td.barcell { width: 24%; min-width: 120px; vertical-align: middle; padding-left: 0; }
.bar { display: block; height: 10px; background: var(--soft); border-radius: 2px; overflow: hidden; }
.bar > span { display: block; height: 100%; background: var(--accent); }
.bar.exec > span { background: #8a5cc2; }
${BAR_WIDTHS}
.matrix { overflow-x: auto; }
.matrix th, .matrix td { padding: 4px 5px; font-size: 12px; }
.matrix th { white-space: nowrap; }
.matrix td.num small { display: block; font-size: 11px; }
.matrix td.zero { color: #b8c0ca; text-align: center; }
`;
