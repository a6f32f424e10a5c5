import { SourceError } from "../source-error.js";
import { MULTIPLE_STATEMENTS, timedOut, unreachable, UNREACHABLE_ERRNOS } from "../sql-errors.js";

/** SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html) and what they mean here. */
const READ_ONLY = new Set(["25006", "25001"]); // read_only_sql_transaction; read-write mode after the first query
const CREDENTIALS = new Set(["28P01", "28000"]); // invalid_password, invalid_authorization_specification
const GONE = new Set(["3D000", "53300", "57P01", "57P02", "57P03", "08000", "08003", "08006", "08001", "08004"]);

/** A pg error as the session is told it: the database's own words for a refused statement, never the URL. */
export function postgresFailure(error: unknown, source: string, timeoutMs: number): SourceError {
  if (error instanceof SourceError) return error;
  const { code, message } = error as { code?: string; message?: string };
  const text = String(message ?? "unknown error").slice(0, 500);
  if (code && READ_ONLY.has(code)) return new SourceError("read-only", `${source} is read-only: ${text}.`);
  if (code === "57014") return timedOut(source, timeoutMs);
  if (code && CREDENTIALS.has(code)) return unreachable(source, "it refused codebot's credentials");
  if (code && GONE.has(code)) return unreachable(source, text);
  if (code && UNREACHABLE_ERRNOS.has(code)) return unreachable(source, code);
  if (code === "42601" && /multiple commands/.test(text)) return new SourceError("query-failed", MULTIPLE_STATEMENTS);
  if (code && /^[0-9A-Z]{5}$/.test(code)) return new SourceError("query-failed", `${source} refused the statement: ${text}`);
  if (code || /connect|terminated/i.test(text)) return unreachable(source, "the connection failed");
  throw error; // not the driver's: a fault of codebot's, logged as such by the registry
}
