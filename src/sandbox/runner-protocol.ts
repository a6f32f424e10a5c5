import { z } from "zod";
import { executionResultSchema, sandboxFileSchema } from "../core/execution-result.js";

/**
 * The framed protocol spoken with the supervisor inside a sandbox (sandbox-image/runner):
 * one JSON object per line on the container's stdin and stdout, each answer naming its request id.
 */
export type RunnerRequest =
  | { id: string; op: "ping" }
  | { id: string; op: "files" }
  | { id: string; op: "claim"; session: string }
  | { id: string; op: "exec"; code: string; timeoutMs: number; maxOutputBytes: number };

export type RunnerInterrupt = { op: "interrupt"; target: string };

export const pongSchema = z.object({ id: z.string(), op: z.literal("pong"), kernelPid: z.number() });
export const claimAnswerSchema = z.object({ id: z.string(), op: z.literal("claim"), granted: z.boolean() });
export const filesAnswerSchema = z.object({ id: z.string(), op: z.literal("files"), files: z.array(sandboxFileSchema) });
export const execAnswerSchema = executionResultSchema.extend({ id: z.string(), op: z.literal("result") });
export const runnerErrorSchema = z.object({ id: z.string().nullable(), op: z.literal("error"), message: z.string() });

/** Any line the supervisor writes to stdout: at least an id to route it by. */
export const runnerAnswerSchema = z.object({ id: z.string(), op: z.string() }).passthrough();
