import { z } from "zod";

/**
 * Calls a session's code makes while an execution runs (`from codebot import sql, fetch, sources`):
 * the supervisor forwards each, tagged with the execution's id (runner-protocol: "call" frames),
 * and the host answers through a SessionCallHandler the execution was given. The sandbox layer
 * knows only this interface; whoever runs the execution (the worker) wires it to what answers
 * (src/datasources/). Everything in a call is the sandbox's, so hostile: bounded and checked here.
 */

/** Bounds of a call's fields (the supervisor's and the codebot package's are the same or tighter). */
export const CALL_BOUNDS = {
  sourceChars: 128,
  statementChars: 256 * 1024,
  params: 1000,
  paramChars: 64 * 1024,
  pathChars: 2048,
  queryKeys: 100,
  queryValues: 100,
  bodyBytes: 1 << 20,
  textChars: 200,
} as const;

const scalar = z.union([z.null(), z.boolean(), z.number().finite(), z.string().max(CALL_BOUNDS.paramChars)]);
const queryValue = z.union([scalar, z.array(scalar).max(CALL_BOUNDS.queryValues)]);

export const sessionCallSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("sources") }),
  z.object({
    kind: z.literal("sql"),
    source: z.string().max(CALL_BOUNDS.sourceChars),
    statement: z.string().max(CALL_BOUNDS.statementChars),
    params: z.array(scalar).max(CALL_BOUNDS.params).default([]),
    maxRows: z.number().int().positive().optional(),
    strict: z.boolean().default(false),
  }),
  z.object({
    kind: z.literal("fetch"),
    source: z.string().max(CALL_BOUNDS.sourceChars),
    path: z.string().max(CALL_BOUNDS.pathChars),
    method: z.string().max(16).default("GET"),
    query: z
      .record(z.string().max(CALL_BOUNDS.textChars), queryValue)
      .refine((query) => Object.keys(query).length <= CALL_BOUNDS.queryKeys, "too many query parameters")
      .default({}),
    body: z
      .string()
      .max(Math.ceil(CALL_BOUNDS.bodyBytes / 3) * 4)
      .regex(/^[A-Za-z0-9+/]*={0,2}$/, "base64")
      .optional(),
    contentType: z.string().max(CALL_BOUNDS.textChars).optional(),
  }),
]);
export type SessionCall = z.infer<typeof sessionCallSchema>;
export type SqlCall = Extract<SessionCall, { kind: "sql" }>;
export type FetchCall = Extract<SessionCall, { kind: "fetch" }>;

/** A call frame as the supervisor sends it: the execution's id, the call's own, the request. */
export const callFrameSchema = z.object({ id: z.string(), op: z.literal("call"), call: z.string().regex(/^[0-9a-f]{24}$/), request: z.unknown() });
/** The supervisor asks to stop sending a call's answer (the session's disk is full). */
export const callCancelSchema = z.object({ id: z.string(), op: z.literal("call-cancel"), call: z.string().max(64) });

/** Where a call's answer goes: bytes into the session's file for it, in order. */
export interface CallSink {
  /** Sends a chunk (at most CALL_CHUNK_BYTES); resolves once the sandbox's stream took it. */
  write(chunk: Buffer): Promise<void>;
}

/** Bytes of an answer per frame (base64 in JSON on the attach stream). */
export const CALL_CHUNK_BYTES = 256 * 1024;

export interface CallContext {
  /** Aborted when the execution ends (answered, timed out, cancelled) or the sandbox stops taking the answer. */
  signal: AbortSignal;
  /** When the execution's own timeout ends (epoch ms): the call must have answered by then. */
  deadline: number;
}

/** A call that failed: a stable code (the codebot package's exception for it) and a sentence for the code's author. */
export class CallFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** Extra fields for the session (an HTTP status). */
    readonly details: Record<string, string | number> = {},
  ) {
    super(message);
  }
}

/**
 * Answers one call: writes the answer's bytes to the sink, returns its end (JSON the session's
 * codebot package reads: column types, row counts...), or throws a CallFailure.
 */
export type SessionCallHandler = (call: SessionCall, sink: CallSink, context: CallContext) => Promise<Record<string, unknown>>;
