import type { ExecutionResult, SandboxFile } from "../core/execution-result.js";
import type { OutgoingFile } from "../core/reply.js";
import type { Sandboxes } from "../sandbox/sandboxes.js";

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

function megabytes(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

/**
 * The images shown and the files written during a turn, fetched from the session for delivery.
 * Bounded whatever the sandbox claims or holds: at most MAX_FILES files and maxTurnFileBytes in
 * all (sizes as the sandbox reports them are checked first, and each download is cut off at the
 * room left, so a sparse or growing file can't make the worker buffer more).
 */
export async function collectOutputs(sandboxes: Sandboxes, sessionId: string, results: ExecutionResult[]): Promise<CollectedOutputs> {
  const images = results
    .flatMap((result) => result.images)
    .slice(0, MAX_IMAGES)
    .map((image, i): OutgoingFile => ({ name: `chart-${i + 1}.png`, mime: image.mime, data: Buffer.from(image.data, "base64") }));
  const latest = new Map<string, SandboxFile>();
  for (const file of results.flatMap((result) => result.files)) latest.set(file.path, file);
  const skippedFiles: string[] = [];
  const files: OutgoingFile[] = [];
  let room = sandboxes.limits.maxTurnFileBytes;
  for (const file of latest.values()) {
    const name = baseName(file.path);
    if (files.length >= MAX_FILES) {
      skippedFiles.push(`${name} (at most ${MAX_FILES} files are sent per answer)`);
      continue;
    }
    if (file.size > room) {
      skippedFiles.push(`${name} (${megabytes(file.size)}: over the ${megabytes(sandboxes.limits.maxTurnFileBytes)} sent per answer)`);
      continue;
    }
    try {
      const data = await sandboxes.download(sessionId, file.path, room);
      room -= data.length;
      files.push({ name, mime: file.mime, data });
    } catch (error) {
      skippedFiles.push(`${name} (${(error as Error).message})`);
    }
  }
  return { images, files, skippedFiles };
}
