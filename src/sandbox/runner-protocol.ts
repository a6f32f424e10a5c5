import { z } from "zod";
import { executionResultSchema, sandboxFileSchema } from "../core/execution-result.js";
import type { SandboxLimits } from "./sandbox-limits.js";

/**
 * The framed protocol spoken with the supervisor inside a sandbox (sandbox-image/runner):
 * one JSON object per line on the container's stdin and stdout, each answer naming its request id.
 */
export type RunnerRequest =
  | { id: string; op: "ping" }
  | { id: string; op: "files" }
  | { id: string; op: "claim"; session: string }
  | {
      id: string;
      op: "exec";
      code: string;
      timeoutMs: number;
      maxOutputBytes: number;
      maxResultBytes: number;
      maxImages: number;
      maxImageBytes: number;
      maxFiles: number;
    };

export type RunnerInterrupt = { op: "interrupt"; target: string };

export const pongSchema = z.object({ id: z.string(), op: z.literal("pong"), kernelPid: z.number() });
export const claimAnswerSchema = z.object({ id: z.string(), op: z.literal("claim"), granted: z.boolean() });
export const filesAnswerSchema = z.object({ id: z.string(), op: z.literal("files"), files: z.array(sandboxFileSchema) });
export const execAnswerSchema = executionResultSchema.extend({ id: z.string(), op: z.literal("result") });

const PNG_BASE64_PREFIX = "iVBORw0KGgo"; // base64 of the PNG signature

/**
 * An execution's answer, checked again on the host against the session's limits (the sandbox
 * enforces them too): text within its caps, at most maxImages PNG images, at most maxFiles files.
 */
export function boundedExecAnswerSchema(limits: SandboxLimits) {
  const output = z.string().max(limits.maxOutputBytes + 200);
  const value = z.string().max(limits.maxResultBytes + 400);
  return execAnswerSchema.extend({
    stdout: output,
    stderr: output,
    result: value.optional(),
    error: z.object({ name: z.string().max(400), value, traceback: value }).optional(),
    images: z
      .array(z.object({ mime: z.literal("image/png"), data: z.string().max(Math.ceil((limits.maxImageBytes * 4) / 3) + 4).startsWith(PNG_BASE64_PREFIX) }))
      .max(limits.maxImages),
    files: z.array(sandboxFileSchema.extend({ path: z.string().max(1024), mime: z.string().max(200) })).max(limits.maxFilesListed),
    notes: z.array(z.string().max(1000)).max(20),
  });
}
export const runnerErrorSchema = z.object({ id: z.string().nullable(), op: z.literal("error"), message: z.string() });

/** Any line the supervisor writes to stdout: at least an id to route it by. */
export const runnerAnswerSchema = z.object({ id: z.string(), op: z.string() }).passthrough();
