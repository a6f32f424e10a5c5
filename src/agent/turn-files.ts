import type { ExecutionResult, SandboxFile } from "../core/execution-result.js";
import type { OutgoingFile } from "../core/reply.js";
import type { SandboxManager } from "../sandbox/sandbox-manager.js";

const MAX_IMAGES = 10;
const MAX_FILES = 10;

export interface CollectedOutputs {
  images: OutgoingFile[];
  files: OutgoingFile[];
  skippedFiles: string[];
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** The images shown and the files written during a turn, fetched from the session for delivery. */
export async function collectOutputs(sandboxes: SandboxManager, sessionId: string, results: ExecutionResult[]): Promise<CollectedOutputs> {
  const images = results
    .flatMap((result) => result.images)
    .slice(0, MAX_IMAGES)
    .map((image, i): OutgoingFile => ({ name: `chart-${i + 1}.png`, mime: image.mime, data: Buffer.from(image.data, "base64") }));
  const latest = new Map<string, SandboxFile>();
  for (const file of results.flatMap((result) => result.files)) latest.set(file.path, file);
  const skippedFiles: string[] = [];
  const files: OutgoingFile[] = [];
  for (const file of latest.values()) {
    if (files.length >= MAX_FILES) {
      skippedFiles.push(`${baseName(file.path)} (at most ${MAX_FILES} files are sent per answer)`);
      continue;
    }
    try {
      files.push({ name: baseName(file.path), mime: file.mime, data: await sandboxes.download(sessionId, file.path) });
    } catch (error) {
      skippedFiles.push(`${baseName(file.path)} (${(error as Error).message})`);
    }
  }
  return { images, files, skippedFiles };
}
