import { readFileSync } from "node:fs";
import * as util from "node:util";
import { CliError } from "./cli-error.js";

/** A line that sets a variable: `NAME=value`, `export NAME=value`, spaces allowed around `=`. */
const ASSIGNMENT = /^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=/;

/** Node's own .env parser (the one `node --env-file` uses), from Node 20.12. */
const parseEnv = (util as { parseEnv?: (content: string) => Record<string, string> }).parseEnv;

/**
 * The lines of a .env file that are neither a variable, a comment, a blank line nor a line of a
 * quoted multi-line value; by number (their text is not shown: it may be a secret pasted on its own).
 */
function malformedLines(content: string, parsed: Record<string, string>): number[] {
  const continued = new Set(Object.values(parsed).filter((value) => value.includes("\n")).flatMap((value) => value.split("\n").map((line) => line.trim())));
  return content.split(/\r?\n/).flatMap((line, i) => {
    const text = line.trim();
    if (!text || text.startsWith("#") || ASSIGNMENT.test(line) || continued.has(text) || continued.has(text.replace(/^["'`]|["'`]$/g, ""))) return [];
    return [i + 1];
  });
}

/**
 * Reads the .env file into process.env as `docker compose` does, for codebot run outside compose:
 * CODEBOT_ENV_FILE names it (default `.env` in the current folder, read when it exists; `none`: no
 * file). A variable already set in the environment (to a value that isn't empty) keeps its value.
 * A file that can't be read, or has a line that isn't NAME=value, is a CliError in one line.
 * Returns the file read and the variables taken from it, or undefined.
 */
export function loadEnvFile(env: NodeJS.ProcessEnv = process.env): { path: string; names: string[] } | undefined {
  const named = env.CODEBOT_ENV_FILE?.trim();
  if (named === "none") return undefined;
  const path = named || ".env";
  let content: string;
  try {
    content = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !named) return undefined;
    throw new CliError(`Cannot read ${path} (${code ?? (error as Error).message})${named ? ": fix CODEBOT_ENV_FILE, or set it to none" : ""}.`);
  }
  if (!parseEnv) throw new CliError(`${path} is here, but reading it needs Node.js 20.12 or newer (this is ${process.version}): upgrade Node, or set CODEBOT_ENV_FILE=none and export the variables.`);
  const parsed = parseEnv(content.replace(/^\uFEFF/, ""));
  const bad = malformedLines(content.replace(/^\uFEFF/, ""), parsed);
  if (bad.length) {
    const where = bad.length === 1 ? `line ${bad[0]} is` : `lines ${bad.slice(0, 5).join(", ")}${bad.length > 5 ? "…" : ""} are`;
    throw new CliError(`${path}: ${where} not NAME=value (nor a # comment): fix ${bad.length === 1 ? "it" : "them"}, or set CODEBOT_ENV_FILE=none to skip the file.`);
  }
  const names = Object.keys(parsed).filter((name) => env[name] === undefined || env[name] === "");
  for (const name of names) env[name] = parsed[name];
  return { path, names };
}
