import { createHash } from "node:crypto";
import type { SourceCallRecord } from "../core/source-call.js";
import type { Logger } from "../log.js";
import type { SourceCallLog } from "./call-log.js";
import type { Caller } from "./data-sources.js";

/** Counted per source, kind and outcome (src/ops/metrics.ts implements it; labels stay bounded). */
export interface SourceCallMetrics {
  sourceCall(source: string, kind: string, outcome: string, seconds: number, rows: number, bytes: number): void;
}

/** The source a call is counted under: a configured name, or one label for every other name the sandbox made up. */
export const UNKNOWN_SOURCE = "(unknown)";

export interface AuditedCall extends SourceCallRecord {
  /** The failure's sentence (not logged: it may quote the statement). */
  message?: string;
}

/**
 * Every data-source call, once: one JSON log line (request id, user, thread, source, the
 * statement's hash and, with LOG_CONTENT=true, its text, rows, bytes, ms, outcome), the metrics,
 * and the admin page's counts and failures. Recording never fails the call.
 */
export class CallAudit {
  constructor(
    private readonly log: Logger,
    private readonly logContent: boolean,
    private readonly metrics?: SourceCallMetrics,
    private readonly callLog?: SourceCallLog,
  ) {}

  record(caller: Caller, call: AuditedCall): void {
    const statementHash = createHash("sha256").update(call.text).digest("hex").slice(0, 16);
    this.log.info(
      {
        audit: "data-source",
        requestId: caller.requestId,
        user: caller.user,
        thread: caller.thread,
        source: call.source,
        kind: call.kind,
        statementHash,
        ...(this.logContent ? { statement: call.text } : {}),
        rows: call.rows ?? 0,
        bytes: call.bytes,
        ms: call.ms,
        outcome: call.outcome,
      },
      "data source call",
    );
    this.metrics?.sourceCall(call.source, call.kind, call.outcome, call.ms / 1000, call.rows ?? 0, call.bytes);
    this.callLog
      ?.record(Date.now(), call.source, call.outcome, { kind: call.kind, message: call.message ?? call.outcome, user: caller.user, thread: caller.thread, requestId: caller.requestId })
      .catch((error: unknown) => this.log.warn({ err: error }, "could not record a data source call for the admin page"));
  }
}
