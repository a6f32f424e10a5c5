import type { Duplex } from "node:stream";
import pg from "pg";
import Cursor from "pg-cursor";
import type { Logger } from "../../log.js";
import type { CsvWriter } from "../csv-writer.js";
import type { TableInfo } from "../data-sources.js";
import { checkColumns, MAX_INTROSPECTED_COLUMNS, type RowCut, type SqlDriver, type SqlOutcome, type SqlStatement } from "../sql-driver.js";
import { cancelledOrTimedOut, connectWithin } from "../sql-errors.js";
import { SourceError } from "../source-error.js";
import { MessageGuard } from "./message-guard.js";
import { columnType, fieldOf } from "./postgres-types.js";
import { postgresFailure } from "./postgres-errors.js";
import type { SqlSourceConfig } from "../source-config.js";

/** A protocol message (one row) and one batch of rows, at most, in the worker's memory. */
const MAX_MESSAGE_BYTES = 32 * 1024 * 1024;
const MAX_BATCH_BYTES = 48 * 1024 * 1024;
/** Rows of the first read; later reads aim at BATCH_BYTES each. */
const FIRST_BATCH = 500;
const BATCH_BYTES = 4 * 1024 * 1024;
const MAX_BATCH_ROWS = 50_000;
/** Past the statement's own timeout, the worker cancels it itself (the database's timer is per protocol message). */
const CANCEL_MARGIN_MS = 250;

/** Every value as PostgreSQL's own text: no parsing in the worker (postgres-types.ts types it for the session). */
const RAW_TEXT = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

type Row = Array<string | null>;
type CancellableClient = pg.PoolClient & { processID?: number; secretKey?: number; connection: { stream: Duplex } };

/** Readable tables and columns: only what the role may SELECT, never the catalogs. */
const INTROSPECTION = `select n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  join pg_catalog.pg_attribute a on a.attrelid = c.oid
 where c.relkind in ('r', 'v', 'm', 'p', 'f') and a.attnum > 0 and not a.attisdropped
   and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp%'
   and has_schema_privilege(n.oid, 'USAGE') and has_column_privilege(c.oid, a.attnum, 'SELECT')
 order by n.nspname, c.relname, a.attnum
 limit ${MAX_INTROSPECTED_COLUMNS}`;

/**
 * A PostgreSQL source: a pool of at most pool_size connections of this worker. Each call is one
 * read-only transaction (BEGIN READ ONLY, then statement_timeout set in it by a SELECT, which also
 * takes its snapshot so `SET TRANSACTION READ WRITE` can no longer be run), one statement through
 * the extended protocol (a cursor: `;`-chained statements are refused by the server), rows read in
 * batches, then ROLLBACK and DISCARD ALL (advisory locks, settings: nothing outlives the call).
 */
export class PostgresSource implements SqlDriver {
  private readonly pool: pg.Pool;

  constructor(
    private readonly config: SqlSourceConfig,
    private readonly log: Logger,
  ) {
    this.pool = new pg.Pool({ connectionString: config.url, max: config.pool_size, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 0, application_name: "codebot", allowExitOnIdle: true });
    // An idle connection the server ended: the pool drops it; nothing to do but say so.
    this.pool.on("error", (error) => log.warn({ source: config.name, err: { message: error.message } }, "a data source's idle connection failed"));
  }

  async run(statement: SqlStatement, writer: CsvWriter, cut: RowCut): Promise<SqlOutcome> {
    return this.transaction(statement.timeoutMs, statement.signal, async (client, guard) => {
      const cursor = client.query(new Cursor<Row>(statement.text, statement.params, { rowMode: "array", types: RAW_TEXT }));
      let columns: SqlOutcome["columns"] | undefined;
      let fields: Array<(value: string | null) => string> = [];
      let batch = FIRST_BATCH;
      guard.startBatch();
      let next: Promise<{ rows: Row[]; result: pg.QueryResult }> | undefined = read(cursor, batch);
      while (next) {
        const { rows, result } = await next;
        // The next batch is asked for at once: the database produces it while this one is written.
        next = undefined;
        if (rows.length === batch) {
          batch = Math.max(10, Math.min(MAX_BATCH_ROWS, Math.floor(BATCH_BYTES / Math.max(1, guard.received / rows.length))));
          guard.startBatch();
          next = read(cursor, batch);
          next.catch(() => undefined); // awaited below; a failure while this batch is written must not go unhandled
        }
        if (!columns) {
          columns = checkColumns(result.fields.map((field) => ({ name: field.name, type: columnType(field.dataTypeID) })));
          fields = columns.map((column) => fieldOf(column.type));
        }
        for (const row of rows) {
          if (!cut.add(writer, row.map((value, i) => fields[i]!(value)))) {
            await next?.catch(() => undefined);
            await cursor.close(); // the portal is closed: the rest of the result is never sent
            return { columns, truncated: true, cutBy: cut.cutBy };
          }
          if (writer.full) await writer.flush();
        }
      }
      await cursor.close();
      return { columns: columns ?? [], truncated: false };
    });
  }

  async introspect(timeoutMs: number): Promise<TableInfo[]> {
    return this.transaction(timeoutMs, AbortSignal.timeout(timeoutMs + 1000), async (client) => {
      const { rows } = await client.query<Row>({ text: INTROSPECTION, rowMode: "array" });
      const tables = new Map<string, TableInfo>();
      for (const [schema, table, column, type] of rows) {
        const name = schema === "public" ? String(table) : `${schema}.${table}`;
        if (!tables.has(name)) tables.set(name, { name, columns: [] });
        tables.get(name)!.columns.push({ name: String(column), type: String(type) });
      }
      return [...tables.values()];
    });
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  /** A connection of the pool inside a read-only transaction with its statement timeout, for work; always rolled back. */
  private async transaction<T>(timeoutMs: number, signal: AbortSignal, work: (client: pg.PoolClient, guard: MessageGuard) => Promise<T>): Promise<T> {
    const client = (await connectWithin(() => this.pool.connect(), (late) => late.release(), timeoutMs, signal, this.config.name, postgresFailure, () => this.pool.totalCount >= this.config.pool_size)) as CancellableClient;
    const guard = new MessageGuard(client.connection.stream, MAX_MESSAGE_BYTES, MAX_BATCH_BYTES);
    // A connection that breaks while checked out (the guard ended it, the server went away) says so
    // here, and to the running query; unheard, it would end the worker.
    const onError = (error: Error) => this.log.debug({ source: this.config.name, err: { message: error.message } }, "a data source's connection failed during a call");
    client.on("error", onError);
    let cancelled: "signal" | "timer" | undefined;
    const cancel = (why: "signal" | "timer") => {
      cancelled ??= why;
      this.cancel(client);
    };
    const onAbort = () => cancel("signal");
    signal.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(() => cancel("timer"), timeoutMs + CANCEL_MARGIN_MS);
    let healthy = false;
    try {
      await client.query("BEGIN TRANSACTION READ ONLY");
      await client.query("SELECT set_config('statement_timeout', $1, true), set_config('idle_in_transaction_session_timeout', $2, true), set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, YMD', true)", [
        String(timeoutMs),
        String(timeoutMs + 10_000),
      ]);
      const value = await work(client, guard);
      await client.query("ROLLBACK");
      await client.query("DISCARD ALL");
      healthy = true;
      return value;
    } catch (error) {
      if (guard.tripped) throw new SourceError("too-large", `${this.config.name}: ${guard.tripped}; select fewer or narrower columns.`);
      throw cancelledOrTimedOut(cancelled, this.config.name, timeoutMs) ?? postgresFailure(error, this.config.name, timeoutMs);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      guard.detach();
      client.off("error", onError);
      // A connection whose call failed or was cancelled is closed (the server rolls back what it had), never reused.
      client.release(healthy ? undefined : true);
    }
  }

  /** Cancels the connection's running statement in the database: a CancelRequest on a connection of its own (none of the pool's). */
  private cancel(client: CancellableClient): void {
    const { host, port } = client as unknown as { host: string; port: number };
    const connection = new pg.Connection() as pg.Connection & { connect(port: number | string, host?: string): void; cancel(pid: number, key: number): void };
    connection.on("error", (error: Error) => this.log.warn({ source: this.config.name, err: { message: error.message } }, "could not cancel a data source's query"));
    connection.once("connect", () => connection.cancel(client.processID ?? 0, client.secretKey ?? 0));
    if (host.startsWith("/")) connection.connect(`${host}/.s.PGSQL.${port}`);
    else connection.connect(port, host);
  }
}

function read(cursor: Cursor<Row>, rows: number): Promise<{ rows: Row[]; result: pg.QueryResult }> {
  return new Promise((resolve, reject) => {
    cursor.read(rows, (error, read, result) => (error ? reject(error) : resolve({ rows: read, result })));
  });
}
