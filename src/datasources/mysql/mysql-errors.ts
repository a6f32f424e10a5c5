import { SourceError } from "../source-error.js";
import { timedOut, unreachable, UNREACHABLE_ERRNOS } from "../sql-errors.js";

/** Error numbers (https://mariadb.com/kb/en/mariadb-error-codes/) and what they mean here. */
const READ_ONLY = new Set([1792, 1568, 1290, 1836]); // read-only transaction, its mode can't change, --read-only, read-only mode
const TIMEOUT = new Set([1969, 3024]); // MariaDB's max_statement_time, MySQL's max_execution_time
const CREDENTIALS = new Set([1045, 1044, 1698]);
const GONE = new Set([1049, 1040, 1203, 2002, 2003, 2006, 2013, 1053, 1152, 1927]);

/** A mysql2 error as the session is told it: the database's own words for a refused statement, never the URL. */
export function mysqlFailure(error: unknown, source: string, timeoutMs: number): SourceError {
  if (error instanceof SourceError) return error;
  const { errno, code, message } = error as { errno?: number; code?: string; message?: string };
  const text = String(message ?? "unknown error").slice(0, 500);
  if (errno !== undefined && READ_ONLY.has(errno)) return new SourceError("read-only", `${source} is read-only: ${text}.`);
  if (errno !== undefined && TIMEOUT.has(errno)) return timedOut(source, timeoutMs);
  if (errno !== undefined && CREDENTIALS.has(errno)) return unreachable(source, "it refused codebot's credentials");
  if ((errno !== undefined && GONE.has(errno)) || (code && UNREACHABLE_ERRNOS.has(code))) return unreachable(source, code ?? text);
  if (typeof errno === "number" && errno >= 1000 && errno < 5000) return new SourceError("query-failed", `${source} refused the statement: ${text}`);
  if (code || errno !== undefined) return unreachable(source, "the connection failed");
  throw error; // not the driver's: a fault of codebot's, logged as such by the registry
}
