import type { SourceCallRecord } from "../core/source-call.js";
import { CallFailure, type SessionCallHandler } from "../sandbox/session-calls.js";
import type { Caller, DataSources } from "./data-sources.js";
import { SourceError } from "./source-error.js";

/**
 * The sandbox's calls of one execution (`from codebot import sql, fetch, sources`) answered by
 * the data sources, for this caller (its channel decides what is usable); each call that ran is
 * passed to record, for the answer's step and the export.
 */
export function sessionCallHandler(sources: DataSources, caller: Caller, record: (call: SourceCallRecord) => void): SessionCallHandler {
  return async (call, sink, { signal, deadline }) => {
    try {
      if (call.kind === "sources") {
        const listed = await sources.listFor(caller.channel);
        await sink.write(Buffer.from(JSON.stringify(listed)));
        return { count: listed.length };
      }
      const limits = { signal, deadline, record };
      if (call.kind === "sql") {
        const result = await sources.query(caller, { source: call.source, statement: call.statement, params: call.params, maxRows: call.maxRows, strict: call.strict }, sink, limits);
        return { columns: result.columns, rows: result.rows, bytes: result.bytes, truncated: result.truncated, ...(result.cutBy ? { cutBy: result.cutBy } : {}) };
      }
      const body = call.body === undefined ? undefined : Buffer.from(call.body, "base64");
      const result = await sources.fetch(caller, { source: call.source, path: call.path, method: call.method, query: call.query, ...(body ? { body } : {}), ...(call.contentType ? { contentType: call.contentType } : {}) }, sink, limits);
      return { status: result.status, contentType: result.contentType, bytes: result.bytes };
    } catch (error) {
      if (error instanceof SourceError) throw new CallFailure(error.code, error.message, error.details);
      throw error;
    }
  };
}
