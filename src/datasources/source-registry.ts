import type { Logger } from "../log.js";
import { CallAudit, UNKNOWN_SOURCE } from "./call-audit.js";
import { channelAllowed } from "./channel-match.js";
import { CsvWriter } from "./csv-writer.js";
import type { ByteSink, Caller, CallLimits, DataSources, FetchRequest, FetchResult, QueryRequest, QueryResult, SourceCheck, SourceInfo } from "./data-sources.js";
import { HttpSource } from "./http/http-source.js";
import { MysqlSource } from "./mysql/mysql-source.js";
import { PostgresSource } from "./postgres/postgres-source.js";
import { SchemaCatalog } from "./schema-catalog.js";
import { isSqlSource, type SourceConfig } from "./source-config.js";
import { SourceError } from "./source-error.js";
import { sourcesPrompt } from "./source-prompt.js";
import { RowCut, type SqlDriver } from "./sql-driver.js";

/** What a call leaves the execution before its own timeout: the session still reads the answer. */
const CALL_MARGIN_MS = 1000;
/** How long a turn's prompt waits for a source's first introspection before naming no tables. */
const PROMPT_WAIT_MS = 3000;
const INTROSPECTION_TIMEOUT_MS = 15_000;

type Entry = { config: SourceConfig; sql?: SqlDriver; http?: HttpSource; catalog?: SchemaCatalog };

export interface RegistryOptions {
  log: Logger;
  audit: CallAudit;
}

/**
 * The configured sources behind the DataSources port, policy enforced per call: the caller's
 * channel must match the source's channels (a source of another channel is as unknown as a name
 * never configured), the name is looked up (never interpolated), the kind must fit the call, and
 * each call gets the source's timeout within what is left of the execution's.
 */
export class SourceRegistry implements DataSources {
  private readonly entries = new Map<string, Entry>();
  readonly names: readonly string[];

  constructor(
    configs: SourceConfig[],
    private readonly options: RegistryOptions,
  ) {
    for (const config of configs) {
      const entry: Entry = { config };
      if (isSqlSource(config)) {
        entry.sql = config.kind === "postgres" ? new PostgresSource(config, options.log) : new MysqlSource(config, options.log);
        entry.catalog = new SchemaCatalog(config.name, entry.sql, config.schema_refresh_seconds * 1000, Math.min(INTROSPECTION_TIMEOUT_MS, config.timeout_seconds * 1000), options.log);
      } else {
        entry.http = new HttpSource(config);
      }
      this.entries.set(config.name, entry);
    }
    this.names = [...this.entries.keys()];
  }

  async listFor(channel: string): Promise<SourceInfo[]> {
    const usable = [...this.entries.values()].filter((entry) => channelAllowed(entry.config.channels, channel));
    return Promise.all(usable.map((entry) => this.info(entry)));
  }

  async describeFor(channel: string): Promise<string> {
    return sourcesPrompt(await this.listFor(channel));
  }

  query(caller: Caller, request: QueryRequest, sink: ByteSink, limits: CallLimits): Promise<QueryResult> {
    return this.audited(caller, "sql", request.source, request.statement, limits, async (entry, timeoutMs) => {
      if (!entry.sql || !isSqlSource(entry.config)) throw new SourceError("bad-request", `${entry.config.name} is an HTTP source: call fetch("${entry.config.name}", path).`);
      const maxRows = Math.min(entry.config.max_rows, request.maxRows ?? Infinity);
      const writer = new CsvWriter(sink, entry.config.max_bytes);
      const cut = new RowCut(maxRows, request.strict, entry.config.name);
      const outcome = await entry.sql.run({ text: request.statement, params: request.params, timeoutMs, signal: limits.signal }, writer, cut);
      await writer.flush();
      const columns = outcome.columns.map((column, i) => ({ ...column, nulls: writer.nulls[i] === true }));
      return { ...outcome, columns, rows: writer.rows, bytes: writer.bytes };
    });
  }

  fetch(caller: Caller, request: FetchRequest, sink: ByteSink, limits: CallLimits): Promise<FetchResult> {
    const query = new URLSearchParams(Object.entries(request.query).flatMap(([key, value]) => (Array.isArray(value) ? value : [value]).map((item) => [key, String(item)]))).toString();
    const text = `${request.method.toUpperCase().slice(0, 16)} ${request.path}${query ? `?${query}` : ""}`;
    return this.audited(caller, "fetch", request.source, text, limits, async (entry, timeoutMs) => {
      if (!entry.http) throw new SourceError("bad-request", `${entry.config.name} is a SQL source: call sql("${entry.config.name}", statement).`);
      return entry.http.fetch(request, sink, timeoutMs, limits.signal);
    });
  }

  async check(name: string, timeoutMs: number): Promise<SourceCheck> {
    const entry = this.entries.get(name);
    if (!entry) throw new SourceError("unknown-source", `No data source named ${JSON.stringify(name)} in DATA_SOURCES_FILE.`);
    const started = performance.now();
    const kind = entry.config.kind;
    try {
      if (entry.catalog) return { name, kind, ok: true, ms: Math.round(performance.now() - started), tables: await entry.catalog.refresh() };
      const sink = { write: async () => undefined };
      const signal = AbortSignal.timeout(timeoutMs);
      await entry.http!.fetch({ source: name, path: "", method: "GET", query: {} }, sink, timeoutMs, signal).catch((error: unknown) => {
        // An answer, even an error status, says the source is there.
        if (!(error instanceof SourceError && error.code === "http-status")) throw error;
      });
      return { name, kind, ok: true, ms: Math.round(performance.now() - started) };
    } catch (error) {
      const problem = error instanceof SourceError ? error.message : (error as Error).message;
      return { name, kind, ok: false, ms: Math.round(performance.now() - started), problem };
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.entries.values()].map((entry) => entry.sql?.close().catch(() => undefined)));
  }

  private async info(entry: Entry): Promise<SourceInfo> {
    const { config } = entry;
    const base: SourceInfo = { name: config.name, kind: config.kind, description: config.description };
    if (!isSqlSource(config)) return { ...base, methods: [...config.methods] };
    const tables = await entry.catalog!.tables(PROMPT_WAIT_MS);
    return { ...base, maxRows: config.max_rows, ...(tables ? { tables } : {}) };
  }

  /** The entry the caller may use under that name, or the error that says it may not. */
  private entryFor(caller: Caller, name: string): Entry {
    const entry = this.entries.get(name);
    if (entry && channelAllowed(entry.config.channels, caller.channel)) return entry;
    const usable = [...this.entries.values()].filter((candidate) => channelAllowed(candidate.config.channels, caller.channel)).map((candidate) => candidate.config.name);
    if (!usable.length) throw new SourceError("not-allowed", "No data source is usable in this channel (whoever runs codebot decides which channels may use which).");
    throw new SourceError("unknown-source", `No data source named ${JSON.stringify(name.slice(0, 64))} is usable here. Usable here: ${usable.join(", ")} (sources() describes them).`);
  }

  /** Runs a call under policy and its time, and audits it whatever happens. */
  private async audited<T extends { bytes: number; rows?: number; truncated?: boolean }>(
    caller: Caller,
    kind: "sql" | "fetch",
    name: string,
    text: string,
    limits: CallLimits,
    run: (entry: Entry, timeoutMs: number) => Promise<T>,
  ): Promise<T> {
    const started = performance.now();
    let source = UNKNOWN_SOURCE;
    let outcome = "ok";
    let result: T | undefined;
    let message: string | undefined;
    try {
      const entry = this.entryFor(caller, name);
      source = entry.config.name;
      const timeoutMs = Math.min(entry.config.timeout_seconds * 1000, limits.deadline - Date.now() - CALL_MARGIN_MS);
      if (timeoutMs <= 0) throw new SourceError("timeout", "The execution has no time left for this call: run it in a cell of its own.");
      result = await run(entry, timeoutMs);
      if (result.truncated) outcome = "truncated";
      return result;
    } catch (error) {
      const failure = error instanceof SourceError ? error : new SourceError("query-failed", "codebot could not run the call (its log has the details).");
      if (!(error instanceof SourceError)) this.options.log.error({ err: error, source }, "a data source call failed unexpectedly");
      outcome = failure.code;
      message = failure.message;
      throw failure;
    } finally {
      const call = { kind, source, text, ...(kind === "sql" ? { rows: result?.rows ?? 0 } : {}), bytes: result?.bytes ?? 0, ms: Math.round(performance.now() - started), outcome };
      this.options.audit.record(caller, { ...call, ...(message ? { message } : {}) });
      limits.record?.(source === UNKNOWN_SOURCE ? { ...call, source: name.slice(0, 64) } : call);
    }
  }
}
