import { clipText } from "../core/display-text.js";
import type { SourceInfo, TableInfo } from "./data-sources.js";

/**
 * What the model is told about the data sources of its channel: how to call them, then each
 * source with its description and, for SQL, its tables and columns (as introspected). Bounded: a
 * schema over its share is summarised (fewer columns per table, then table names only, then cut
 * with a count), so the largest schemas never crowd out the rest of the prompt.
 */

export const PROMPT_CHARS = 8000;
const MIN_SHARE = 600;
const NAME_CHARS = 80;
const TYPE_CHARS = 40;
const SUMMARY_COLUMNS = 8;

/** Text from a database or the admin's file, as one tame line: no control characters, clipped. */
function tame(text: string, max: number): string {
  return clipText(text.replace(/[\x00-\x1f\x7f\u2028\u2029]+/g, " ").trim(), max);
}

function fullTable(table: TableInfo): string {
  return `${tame(table.name, NAME_CHARS)}(${table.columns.map((column) => `${tame(column.name, NAME_CHARS)} ${tame(column.type, TYPE_CHARS)}`).join(", ")})`;
}

function shortTable(table: TableInfo): string {
  const shown = table.columns.slice(0, SUMMARY_COLUMNS).map((column) => tame(column.name, NAME_CHARS));
  const more = table.columns.length - shown.length;
  return `${tame(table.name, NAME_CHARS)}(${shown.join(", ")}${more > 0 ? `, +${more} more` : ""})`;
}

/** The tables in at most budget characters, as detailed as fits. */
export function tablesText(tables: TableInfo[], budget: number): string {
  for (const render of [fullTable, shortTable, (table: TableInfo) => `${tame(table.name, NAME_CHARS)} (${table.columns.length} columns)`]) {
    const text = tables.map(render).join("; ");
    if (text.length <= budget) return text;
  }
  const names: string[] = [];
  let used = 0;
  for (const table of tables) {
    const name = tame(table.name, NAME_CHARS);
    if (used + name.length + 60 > budget) break;
    names.push(name);
    used += name.length + 2;
  }
  return `${names.join("; ")}; and ${tables.length - names.length} more tables (sources() lists them all with their columns)`;
}

function sourceLine(source: SourceInfo, budget: number): string {
  const facts = source.kind === "http" ? `http, ${(source.methods ?? ["GET"]).join("/")}` : `${source.kind}, at most ${(source.maxRows ?? 0).toLocaleString("en-US")} rows`;
  const head = `- ${tame(source.name, NAME_CHARS)} (${facts})${source.description ? `: ${tame(source.description, 500)}` : ""}`;
  if (source.kind === "http") return `${head}\n  Paths are relative to the source's base URL.`;
  if (!source.tables) return `${head}\n  (Its tables could not be read just now: query information_schema to find them.)`;
  if (!source.tables.length) return `${head}\n  (Its role can read no table.)`;
  return `${head}\n  Tables: ${tablesText(source.tables, Math.max(200, budget - head.length))}`;
}

/** The prompt's part on these sources, "" when there are none. */
export function sourcesPrompt(sources: SourceInfo[]): string {
  if (!sources.length) return "";
  const share = Math.max(MIN_SHARE, Math.floor(PROMPT_CHARS / sources.length));
  const hasPostgres = sources.some((source) => source.kind === "postgres");
  const hasMysql = sources.some((source) => source.kind === "mysql");
  const placeholders = [hasPostgres ? "$1, $2 on PostgreSQL" : "", hasMysql ? "? on MySQL/MariaDB" : ""].filter(Boolean).join("; ");
  const lines = [
    "Data sources usable in this thread, read-only, through the `codebot` module (the sandbox itself has no network):",
    "  from codebot import sql, fetch, sources",
    ...(hasPostgres || hasMysql ? [`  df = sql("<source>", "select ... where day = ${hasPostgres ? "$1" : "?"}", [value])  # a pandas DataFrame`] : []),
    ...(sources.some((source) => source.kind === "http") ? ['  body = fetch("<source>", "relative/path", params={"key": "value"})  # bytes; json.loads(body) for JSON'] : []),
    `One statement per sql() call; pass values as parameters (${placeholders || "placeholders"}), never formatted into the SQL. Results are cut at the source's row limit (df.attrs["truncated"] says so): aggregate and filter in SQL. Errors are codebot.DataSourceError subclasses.`,
    ...sources.map((source) => sourceLine(source, share)),
  ];
  return lines.join("\n");
}
