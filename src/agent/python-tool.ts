import type { ChatCompletionTool } from "openai/resources/chat/completions";
import { z } from "zod";
import type { ExecutionResult } from "../core/execution-result.js";

export const PYTHON_TOOL_NAME = "python";

export const PYTHON_TOOL: ChatCompletionTool = {
  type: "function",
  function: {
    name: PYTHON_TOOL_NAME,
    description:
      "Run Python code in this thread's stateful session (like a Jupyter cell). Returns stdout, stderr, the last expression's value, errors, images shown and files written under /mnt/data.",
    parameters: {
      type: "object",
      properties: { code: { type: "string", description: "The Python code to run." } },
      required: ["code"],
      additionalProperties: false,
    },
  },
};

const argumentsSchema = z.object({ code: z.string() });

/** The code from a python tool call; models sometimes send raw code instead of JSON, which is accepted. */
export function parsePythonArguments(raw: string): string {
  try {
    const parsed = argumentsSchema.safeParse(JSON.parse(raw));
    if (parsed.success) return parsed.data.code;
  } catch {
    // not JSON: treat the whole string as code
  }
  return raw;
}

/** Keeps the start and the end of a long text, saying how much was cut. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = Math.floor(max * 0.7);
  const tail = max - head;
  return `${text.slice(0, head)}\n[... ${text.length - max} characters cut ...]\n${text.slice(text.length - tail)}`;
}

/** What the model reads back from an execution, within a character budget. */
export function toolOutput(result: ExecutionResult, maxChars: number): string {
  const parts: string[] = [`status: ${result.status}`];
  if (result.stdout) parts.push(`stdout:\n${result.stdout}`);
  if (result.stderr) parts.push(`stderr:\n${result.stderr}`);
  if (result.result !== undefined) parts.push(`result:\n${result.result}`);
  if (result.error) parts.push(`error:\n${result.error.traceback || `${result.error.name}: ${result.error.value}`}`);
  if (result.images.length) parts.push(`${result.images.length} image(s) shown to the users.`);
  if (result.files.length) parts.push(`files written: ${result.files.map((file) => `${file.path} (${file.size} bytes)`).join(", ")}`);
  if (result.notes.length) parts.push(`notes: ${result.notes.join(" ")}`);
  return clip(parts.join("\n"), maxChars);
}
