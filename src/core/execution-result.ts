import { z } from "zod";

/** What one execution in a sandbox produced: the notebook's view of a cell. */
export const executionStatusSchema = z.enum(["ok", "error", "timeout", "oom", "killed", "cancelled"]);
export type ExecutionStatus = z.infer<typeof executionStatusSchema>;

export const executionErrorSchema = z.object({
  name: z.string(),
  value: z.string(),
  traceback: z.string(),
});
export type ExecutionError = z.infer<typeof executionErrorSchema>;

/** A file under /mnt/data that the execution created or changed. */
export const sandboxFileSchema = z.object({
  path: z.string(),
  size: z.number().int().nonnegative(),
  mime: z.string(),
});
export type SandboxFile = z.infer<typeof sandboxFileSchema>;

/** An image the code displayed (a matplotlib figure, a PIL image), base64-encoded. */
export const executionImageSchema = z.object({
  mime: z.string(),
  data: z.string(),
});
export type ExecutionImage = z.infer<typeof executionImageSchema>;

export const executionResultSchema = z.object({
  status: executionStatusSchema,
  stdout: z.string(),
  stderr: z.string(),
  result: z.string().optional(),
  error: executionErrorSchema.optional(),
  files: z.array(sandboxFileSchema),
  images: z.array(executionImageSchema),
  durationMs: z.number().nonnegative(),
  /** True when the session's Python process was restarted and its variables are gone. */
  stateLost: z.boolean(),
  /** Plain-language notes for people: truncation, restarts, a full disk. */
  notes: z.array(z.string()),
  /** True for the first execution of a new session (the thread's earlier one, if any, had ended). */
  freshSession: z.boolean().optional(),
  /**
   * What the execution wrote and deleted under /mnt/data, as paths relative to it, for checkpoints
   * (the runner's own .codebot folder never appears). complete is false when the lists were cut or
   * the sandbox could not list everything: then copy the whole folder. Absent from older images.
   */
  changes: z.object({ written: z.array(z.string()), deleted: z.array(z.string()), complete: z.boolean() }).optional(),
});
export type ExecutionResult = z.infer<typeof executionResultSchema>;
