import type { SourceCallRecord } from "../core/source-call.js";

/**
 * The data-sources port: the SQL databases and HTTP APIs the admin configured (DATA_SOURCES_FILE),
 * reached from a sandbox's code through the worker, policy enforced per call. The agent and the
 * worker depend on this port only; each kind has its implementation (postgres with pg, mysql with
 * mysql2, http with Node's fetch) behind it, in this folder.
 */

export type SourceKind = "postgres" | "mysql" | "http";

/** A column of a table, as the source's role can read it. */
export interface ColumnInfo {
  name: string;
  type: string;
}

export interface TableInfo {
  /** schema.table (PostgreSQL) or table (MySQL: the connection's database). */
  name: string;
  columns: ColumnInfo[];
}

/** A source as a channel may know it: never its URL or credentials. */
export interface SourceInfo {
  name: string;
  kind: SourceKind;
  description: string;
  /** SQL sources: the tables the role can read, when introspected (cached, bounded). */
  tables?: TableInfo[];
  /** HTTP sources: the methods allowed. */
  methods?: string[];
  maxRows?: number;
}

/** Who makes a call: for policy (the channel) and the audit line. */
export interface Caller {
  /** platform:workspace:channel (channel-match.ts). */
  channel: string;
  /** platform:userId */
  user: string;
  /** The thread key. */
  thread: string;
  requestId: string;
}

/** Where an answer's bytes go, in order (the sandbox's stream: backpressure applies). */
export interface ByteSink {
  write(chunk: Buffer): Promise<void>;
}

/** A column of a result and how the session reads it: int, uint, float, bool, date, datetime, datetimetz, text. */
export interface ResultColumn {
  name: string;
  type: string;
  /** Whether it held a NULL (an int or bool column without one is read as numpy int64 / bool, else as pandas' nullable Int64 / boolean). */
  nulls?: boolean;
}

export interface QueryRequest {
  source: string;
  statement: string;
  params: Array<string | number | boolean | null>;
  /** The caller's own cap, under the source's max_rows. */
  maxRows?: number;
  /** Refuse (too-many-rows) instead of cutting. */
  strict: boolean;
}

export interface QueryResult {
  columns: ResultColumn[];
  rows: number;
  bytes: number;
  truncated: boolean;
  cutBy?: "max_rows" | "max_bytes";
}

export interface FetchRequest {
  source: string;
  path: string;
  method: string;
  query: Record<string, unknown>;
  body?: Buffer;
  contentType?: string;
}

export interface FetchResult {
  status: number;
  contentType: string;
  bytes: number;
}

/** When a call must end, and what stops it early (the execution ended). */
export interface CallLimits {
  deadline: number;
  signal: AbortSignal;
  /** Told of the call once it ended (ok or not), for the answer's step and the export. */
  record?: (record: SourceCallRecord) => void;
}

/** What `codebot sources check` reports of one source. */
export interface SourceCheck {
  name: string;
  kind: SourceKind;
  ok: boolean;
  ms: number;
  problem?: string;
  tables?: TableInfo[];
}

export interface DataSources {
  /** Every configured source's name (for the CLI). */
  readonly names: readonly string[];
  /** The sources usable in this channel, with their (cached) tables; others are never named. */
  listFor(channel: string): Promise<SourceInfo[]>;
  /** The system prompt's part on this channel's sources (bounded), or "" when it has none. */
  describeFor(channel: string): Promise<string>;
  /** Runs one read-only statement, streaming the rows to sink as CSV; SourceError when refused or failed. */
  query(caller: Caller, request: QueryRequest, sink: ByteSink, limits: CallLimits): Promise<QueryResult>;
  /** Requests a path under an HTTP source's base URL, streaming the body to sink; SourceError otherwise. */
  fetch(caller: Caller, request: FetchRequest, sink: ByteSink, limits: CallLimits): Promise<FetchResult>;
  /** Connects to a source and reads its tables once (`codebot sources check`). */
  check(name: string, timeoutMs: number): Promise<SourceCheck>;
  /** Closes every pool. */
  close(): Promise<void>;
}

/** What a call leaves for the answer (its step) and the export. */
export type { SourceCallRecord };
