import mysql from "mysql2";
import type { Logger } from "../../log.js";
import type { CsvWriter } from "../csv-writer.js";
import type { TableInfo } from "../data-sources.js";
import type { SqlSourceConfig } from "../source-config.js";
import { checkColumns, MAX_INTROSPECTED_COLUMNS, type RowCut, type SqlDriver, type SqlOutcome, type SqlStatement } from "../sql-driver.js";
import { cancelledOrTimedOut, connectWithin } from "../sql-errors.js";
import { mysqlFailure } from "./mysql-errors.js";
import { columnType, fieldOf, type MysqlField } from "./mysql-types.js";

/** Past the statement's own timeout, the worker kills it itself. */
const CANCEL_MARGIN_MS = 250;
/** Rows buffered between the server and the CSV, at most (the connection is paused beyond). */
const ROWS_BUFFERED = 256;

type Connection = mysql.PoolConnection & { threadId: number; _handshakePacket?: { serverVersion?: string } };

/** Readable tables and columns of the connection's database: information_schema lists only what the role has a privilege on. */
const INTROSPECTION = `select TABLE_NAME, COLUMN_NAME, COLUMN_TYPE from information_schema.COLUMNS
 where TABLE_SCHEMA = database() order by TABLE_NAME, ORDINAL_POSITION limit ${MAX_INTROSPECTED_COLUMNS}`;

/**
 * A MySQL or MariaDB source: a pool of at most pool_size connections of this worker. Each call sets
 * the statement's time (max_statement_time on MariaDB, max_execution_time on MySQL) and makes the
 * session's transactions read-only (so a statement that commits implicitly, DDL, is still refused),
 * opens START TRANSACTION READ ONLY, runs the one statement as a prepared statement (no `;` chains)
 * whose rows are streamed, then rolls back and resets the connection (COM_RESET_CONNECTION: locks,
 * variables, prepared statements: nothing outlives the call).
 */
export class MysqlSource implements SqlDriver {
  private readonly pool: mysql.Pool;
  private readonly uri: string;

  constructor(
    private readonly config: SqlSourceConfig,
    private readonly log: Logger,
  ) {
    this.uri = config.url.replace(/^mariadb:/, "mysql:");
    this.pool = mysql.createPool({
      uri: this.uri,
      connectionLimit: config.pool_size,
      maxIdle: config.pool_size,
      idleTimeout: 30_000,
      rowsAsArray: true,
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      multipleStatements: false,
      connectTimeout: 10_000,
      maxPreparedStatements: 16,
      timezone: "Z",
      charset: "utf8mb4",
    });
  }

  async run(statement: SqlStatement, writer: CsvWriter, cut: RowCut): Promise<SqlOutcome> {
    return this.transaction(statement.timeoutMs, statement.signal, async (connection) => {
      const command = connection.execute({ sql: statement.text, values: statement.params, rowsAsArray: true });
      const rows = (command as unknown as { stream(options: object): NodeJS.ReadableStream }).stream({ highWaterMark: ROWS_BUFFERED });
      let columns: SqlOutcome["columns"] = [];
      let fields: Array<(value: unknown) => string> = [];
      rows.on("fields", (given: MysqlField[] | undefined) => {
        columns = checkColumns((given ?? []).map((field) => ({ name: field.name, type: columnType(field) })));
        fields = columns.map((column) => fieldOf(column.type));
      });
      for await (const row of rows as AsyncIterable<unknown>) {
        if (!Array.isArray(row)) continue; // a statement without rows answers with its OK packet
        if (!cut.add(writer, row.map((value, i) => fields[i]!(value)))) {
          // Only the server can stop a result it is sending: the statement is killed, the connection dropped.
          throw new CutShort({ columns, truncated: true, cutBy: cut.cutBy });
        }
        if (writer.full) await writer.flush();
      }
      return { columns, truncated: false };
    });
  }

  async introspect(timeoutMs: number): Promise<TableInfo[]> {
    return this.transaction(timeoutMs, AbortSignal.timeout(timeoutMs + 1000), async (connection) => {
      const rows = await new Promise<string[][]>((resolve, reject) => connection.query({ sql: INTROSPECTION, rowsAsArray: true }, (error, result) => (error ? reject(error) : resolve(result as string[][]))));
      const tables = new Map<string, TableInfo>();
      for (const [table, column, type] of rows) {
        const name = String(table);
        if (!tables.has(name)) tables.set(name, { name, columns: [] });
        tables.get(name)!.columns.push({ name: String(column), type: String(type) });
      }
      return [...tables.values()];
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.pool.end(() => resolve()));
  }

  private async transaction<T>(timeoutMs: number, signal: AbortSignal, work: (connection: Connection) => Promise<T>): Promise<T> {
    const connection = (await connectWithin(
      () => new Promise<mysql.PoolConnection>((resolve, reject) => this.pool.getConnection((error, got) => (error ? reject(error) : resolve(got)))),
      (late) => late.release(),
      timeoutMs,
      signal,
      this.config.name,
      mysqlFailure,
    )) as Connection;
    let cancelled: "signal" | "timer" | undefined;
    const cancel = (why: "signal" | "timer") => {
      cancelled ??= why;
      void this.kill(connection.threadId);
    };
    const onAbort = () => cancel("signal");
    signal.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(() => cancel("timer"), timeoutMs + CANCEL_MARGIN_MS);
    let healthy = false;
    try {
      const mariadb = /mariadb/i.test(connection._handshakePacket?.serverVersion ?? "");
      const limit = mariadb ? `max_statement_time = ${(timeoutMs / 1000).toFixed(3)}` : `max_execution_time = ${Math.ceil(timeoutMs)}`;
      await query(connection, `SET SESSION ${limit}, time_zone = '+00:00'`);
      await query(connection, "SET SESSION TRANSACTION READ ONLY");
      await query(connection, "START TRANSACTION READ ONLY");
      const value = await work(connection);
      await query(connection, "ROLLBACK");
      await new Promise<void>((resolve, reject) => (connection as unknown as { reset(cb: (error: Error | null) => void): void }).reset((error) => (error ? reject(error) : resolve())));
      healthy = true;
      return value;
    } catch (error) {
      if (error instanceof CutShort) {
        await this.kill(connection.threadId);
        return error.outcome as T;
      }
      throw cancelledOrTimedOut(cancelled, this.config.name, timeoutMs) ?? mysqlFailure(error, this.config.name, timeoutMs);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      // A connection whose call failed, was cut or cancelled is closed (the server rolls back), never reused.
      if (healthy) connection.release();
      else connection.destroy();
    }
  }

  /** Stops a connection's running statement in the server (KILL QUERY, from a connection of its own). */
  private async kill(threadId: number): Promise<void> {
    const killer = mysql.createConnection({ uri: this.uri, connectTimeout: 5000 });
    killer.on("error", () => undefined);
    try {
      await query(killer, `KILL QUERY ${Math.trunc(Number(threadId))}`);
    } catch (error) {
      this.log.warn({ source: this.config.name, err: { message: (error as Error).message } }, "could not stop a data source's query");
    } finally {
      killer.destroy();
    }
  }
}

/** A result cut at its cap: the statement must be stopped in the server before the connection goes. */
class CutShort extends Error {
  constructor(readonly outcome: SqlOutcome) {
    super("cut");
  }
}

function query(connection: mysql.Connection | mysql.PoolConnection, sql: string): Promise<void> {
  return new Promise((resolve, reject) => connection.query(sql, (error) => (error ? reject(error) : resolve())));
}
