import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { z } from "zod";
import { ConfigError } from "../config.js";
import { channelPattern } from "./channel-match.js";

/**
 * DATA_SOURCES_FILE: the data sources a worker may reach, by name, and which channels may use
 * each. Secrets are never in the file: it names the environment variables that hold them
 * (url_env, headers_env), read once here. An invalid file stops the worker at start, naming the
 * key and the problem (never a secret's value).
 */

const KIB = 1024;
const MIB = 1024 * KIB;

export const SOURCE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
/** Headers codebot sets or that would change how the request travels: never from the file. */
const RESERVED_HEADERS = new Set(["host", "content-length", "transfer-encoding", "connection", "content-type", "accept-encoding", "te", "upgrade", "expect"]);
export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;

const common = {
  description: z.string().max(1000, "at most 1,000 characters").default(""),
  /** platform:workspace:channel patterns (`*` matches anything, colons too). */
  channels: z.array(z.string().min(1).max(300).refine(channelPattern.valid, "a pattern platform:workspace:channel, * for anything")).min(1, "list at least one channel pattern (\"*\" for all)").max(200),
  timeout_seconds: z.number().int().min(1).max(3600).default(30),
  /** Bytes of one call's answer at most (a SQL result as CSV, an HTTP body). */
  max_bytes: z.number().int().min(KIB).max(4096 * MIB).default(100 * MIB),
};

const sqlSource = z
  .object({
    kind: z.enum(["postgres", "mysql"]),
    url_env: z.string().regex(ENV_NAME, "the name of an environment variable (letters, digits, _)"),
    max_rows: z.number().int().min(1).max(100_000_000).default(100_000),
    /** Connections this worker keeps to the source, at most. */
    pool_size: z.number().int().min(1).max(50).default(5),
    /** How long the introspected tables (for the model's prompt) are kept before they are read again. */
    schema_refresh_seconds: z.number().int().min(10).max(7 * 24 * 3600).default(600),
    ...common,
  })
  .strict();

const httpSource = z
  .object({
    kind: z.literal("http"),
    base_url: z.string().max(2000).refine(isBaseUrl, "an http(s) URL without a user, password, query or fragment"),
    headers_env: z
      .record(z.string().regex(HEADER_NAME, "a header name").refine((name) => !RESERVED_HEADERS.has(name.toLowerCase()), "a header codebot sets itself"), z.string().regex(ENV_NAME, "the name of an environment variable"))
      .default({}),
    methods: z.array(z.enum(HTTP_METHODS)).min(1).default(["GET"]),
    /** Redirects followed, each only while it stays under base_url. */
    max_redirects: z.number().int().min(0).max(10).default(3),
    ...common,
  })
  .strict();

const sourceSchema = z.discriminatedUnion("kind", [sqlSource, httpSource]);
const fileSchema = z.record(z.string().regex(SOURCE_NAME, "a source name: a letter, then letters, digits, _ or - (64 at most)"), sourceSchema).refine((file) => Object.keys(file).length <= 100, "at most 100 sources");

type SqlEntry = z.infer<typeof sqlSource>;
type HttpEntry = z.infer<typeof httpSource>;

/** A SQL source as the worker uses it: the connection URL read from its variable (a secret). */
export type SqlSourceConfig = Omit<SqlEntry, "url_env"> & { name: string; urlEnv: string; url: string };
/** An HTTP source: its headers' values read from their variables (secrets). */
export type HttpSourceConfig = Omit<HttpEntry, "headers_env" | "base_url"> & { name: string; baseUrl: URL; headers: Record<string, string> };
export type SourceConfig = SqlSourceConfig | HttpSourceConfig;

/** A bad DATA_SOURCES_FILE (or a variable it names): said as configuration is, one line per problem. */
export class DataSourcesConfigError extends ConfigError {}

function isBaseUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && !url.username && !url.password && !url.search && !url.hash;
  } catch {
    return false;
  }
}

/** The database URL of a SQL source, checked without ever being quoted back. */
function checkDatabaseUrl(kind: SqlEntry["kind"], value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "is not a URL";
  }
  const schemes = kind === "postgres" ? ["postgres:", "postgresql:"] : ["mysql:", "mariadb:"];
  if (!schemes.includes(url.protocol)) return `is not a ${schemes.map((scheme) => `${scheme}//`).join(" or ")} URL`;
  if (!url.hostname) return "names no host";
  return undefined;
}

function resolve(name: string, entry: z.infer<typeof sourceSchema>, env: NodeJS.ProcessEnv, problems: string[]): SourceConfig | undefined {
  if (entry.kind === "http") {
    const headers: Record<string, string> = {};
    for (const [header, variable] of Object.entries(entry.headers_env)) {
      const value = env[variable];
      if (!value) problems.push(`${name}.headers_env.${header}: the variable ${variable} is not set`);
      else if (/[\r\n\0]/.test(value)) problems.push(`${name}.headers_env.${header}: the variable ${variable} holds a line break`);
      else headers[header] = value;
    }
    const { headers_env: _headers, base_url: baseUrl, ...rest } = entry;
    // Paths resolve under the base URL's folder: a base without a trailing slash is taken as that folder.
    const base = new URL(baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
    return { ...rest, name, baseUrl: base, headers };
  }
  const url = env[entry.url_env];
  if (!url) {
    problems.push(`${name}.url_env: the variable ${entry.url_env} is not set`);
    return undefined;
  }
  const problem = checkDatabaseUrl(entry.kind, url);
  if (problem) {
    problems.push(`${name}.url_env: the value of ${entry.url_env} ${problem}`);
    return undefined;
  }
  const { url_env: urlEnv, ...rest } = entry;
  return { ...rest, name, urlEnv, url };
}

/** The sources of a file's text (YAML), their secrets read from env; DataSourcesConfigError naming each problem. */
export function parseDataSources(text: string, env: NodeJS.ProcessEnv, origin = "DATA_SOURCES_FILE"): SourceConfig[] {
  let raw: unknown;
  try {
    raw = parse(text, { maxAliasCount: 100 }) ?? {};
  } catch (error) {
    throw new DataSourcesConfigError(`${origin}: not valid YAML: ${(error as Error).message.split("\n")[0]}`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join(".") || "(the file)"}: ${issue.message}`);
    throw new DataSourcesConfigError(`${origin} is invalid:\n${lines.join("\n")}`);
  }
  const problems: string[] = [];
  const sources = Object.entries(parsed.data).flatMap(([name, entry]) => resolve(name, entry, env, problems) ?? []);
  if (problems.length) throw new DataSourcesConfigError(`${origin} is invalid:\n${problems.map((problem) => `  ${problem}`).join("\n")}`);
  return sources;
}

/** DATA_SOURCES_FILE read and checked; no file configured: undefined (no sources). */
export function loadDataSources(path: string | undefined, env: NodeJS.ProcessEnv = process.env): SourceConfig[] | undefined {
  if (!path) return undefined;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new DataSourcesConfigError(`DATA_SOURCES_FILE (${path}) can't be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return parseDataSources(text, env, `DATA_SOURCES_FILE (${path})`);
}

export const isSqlSource = (source: SourceConfig): source is SqlSourceConfig => source.kind !== "http";
