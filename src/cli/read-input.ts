import { access, constants, readFile, stat } from "node:fs/promises";
import { CliError } from "./cli-error.js";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Why a path can't be read, in words: "no such file", "it is a folder", "permission denied". */
function why(error: NodeJS.ErrnoException): string {
  if (error.code === "ENOENT" || error.code === "ENOTDIR") return "no such file";
  if (error.code === "EISDIR") return "it is a folder";
  if (error.code === "EACCES" || error.code === "EPERM") return "permission denied";
  return error.code ?? error.message;
}

/** Undefined when path is a file this process may read; else the one line saying why not. */
export async function unreadable(path: string): Promise<string | undefined> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) return `Cannot read ${path}: it is a folder.`;
    if (!info.isFile()) return `Cannot read ${path}: not a regular file.`;
    await access(path, constants.R_OK);
    return undefined;
  } catch (error) {
    return `Cannot read ${path}: ${why(error as NodeJS.ErrnoException)}.`;
  }
}

/** Every file to attach is there and readable, checked before anything is started or sent. */
export async function checkAttachments(paths: string[]): Promise<void> {
  for (const path of paths) {
    const problem = await unreadable(path);
    if (problem) throw new CliError(problem);
  }
}

/** The code to run: from FILE, from standard input for "-" (or when input is piped), else an error. */
export async function readCode(file: string | undefined): Promise<string> {
  if (file === undefined && process.stdin.isTTY) throw new CliError("No code given: pass a FILE, or - to read standard input.");
  if (file === undefined || file === "-") return readStdin();
  return readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`Cannot read ${file}: ${why(error)}.`);
  });
}
