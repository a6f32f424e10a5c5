import { readFile } from "node:fs/promises";
import { CliError } from "./cli-error.js";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** The code to run: from FILE, from standard input for "-" (or when input is piped), else an error. */
export async function readCode(file: string | undefined): Promise<string> {
  if (file === undefined && process.stdin.isTTY) throw new CliError("No code given: pass a FILE, or - to read standard input.");
  if (file === undefined || file === "-") return readStdin();
  return readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`Cannot read ${file}: ${error.code ?? error.message}`);
  });
}
