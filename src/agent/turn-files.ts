import path from "node:path/posix";
import type { ExecutionImage, ExecutionResult, SandboxFile } from "../core/execution-result.js";
import type { AnswerTable, OutgoingFile } from "../core/reply.js";
import type { Logger } from "../log.js";
import { safeFilename } from "../sandbox/safe-filename.js";
import { reasonForPeople } from "../sandbox/sandbox-error.js";
import type { Sandboxes } from "../sandbox/sandboxes.js";

const MAX_IMAGES = 10;
const MAX_FILES = 10;
/** DataFrames and Series shown per answer: the last ones of the turn (a table block each is a lot). */
const MAX_TABLES = 5;
/** Characters of an image's name taken from its figure's title, before ".png". */
const MAX_TITLE_NAME_CHARS = 80;

export interface CollectedOutputs {
  images: OutgoingFile[];
  /** The turn's last DataFrames and Series (at most MAX_TABLES), each with its CSV when it could be fetched. */
  tables: AnswerTable[];
  files: OutgoingFile[];
  skippedFiles: string[];
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** A file that could not be downloaded, as its "not sent" entry: why in plain words, the detail in the log. */
function unreadable(name: string, error: unknown, log?: Logger): string {
  log?.warn({ err: error, file: name }, "a file of the session could not be downloaded");
  return `${name} (${reasonForPeople(error, "it could not be read from the session")})`;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

/**
 * Names unique within one answer (case aside, as file systems and chat clients compare them): a
 * name already taken gets " (2)", " (3)" before its extension.
 */
class AnswerNames {
  private readonly taken = new Set<string>();

  claim(name: string): string {
    const extension = path.extname(name);
    const stem = name.slice(0, name.length - extension.length);
    let candidate = name;
    for (let n = 2; this.taken.has(candidate.toLowerCase()); n++) candidate = `${stem} (${n})${extension}`;
    this.taken.add(candidate.toLowerCase());
    return candidate;
  }
}

/**
 * A file name from a figure's title, which the sandbox's code wrote (so it is hostile): one line,
 * no folder separators, controls or invisible characters, letters of any script kept, at most
 * MAX_TITLE_NAME_CHARS characters. Undefined when nothing is left.
 */
export function titleFileName(title: string | undefined): string | undefined {
  if (!title) return undefined;
  const line = title
    .normalize("NFC")
    .replace(/[\\/]+/g, "-")
    .replace(/[\s\p{Zl}\p{Zp}]+/gu, " ")
    .replace(/[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Cn}]/gu, "");
  const clipped = Array.from(line).slice(0, MAX_TITLE_NAME_CHARS).join("").replace(/[.\s]+$/, "");
  const name = safeFilename(`${clipped}.png`); // no leading dots, "<>:"|?*" replaced, at most 200 bytes
  return name.length > ".png".length && name.endsWith(".png") ? name : undefined;
}

interface ShownImage {
  image: ExecutionImage;
  step: number;
  /** Its place among the step's images, and how many the step showed. */
  n: number;
  of: number;
}

/** An image's name: its figure's title, else chart-<step>.png (chart-<step>-<n>.png when the step showed several). */
function imageName({ image, step, n, of }: ShownImage): string {
  return titleFileName(image.title) ?? (of === 1 ? `chart-${step}.png` : `chart-${step}-${n}.png`);
}

/**
 * The images shown, the tables and the files written during a turn, fetched from the session for
 * delivery. Bounded whatever the sandbox claims or holds: at most MAX_FILES files, MAX_IMAGES
 * images and MAX_TABLES tables, and maxTurnFileBytes in all for the files and the tables' CSVs
 * (sizes as the sandbox reports them are checked first, and each download is cut off at the room
 * left, so a sparse or growing file can't make the worker buffer more). The user's own files come
 * first; then the CSVs, from the runner's hidden folder (a path the host checked: runner-protocol.ts).
 * Every name is unique within the answer.
 */
export async function collectOutputs(sandboxes: Sandboxes, sessionId: string, results: ExecutionResult[], log?: Logger): Promise<CollectedOutputs> {
  const names = new AnswerNames();
  const latest = new Map<string, SandboxFile>();
  for (const file of results.flatMap((result) => result.files)) latest.set(file.path, file);
  const skippedFiles: string[] = [];
  const files: OutgoingFile[] = [];
  let room = sandboxes.limits.maxTurnFileBytes;
  const overRoom = (name: string, bytes: number) => `${name} (${megabytes(bytes)}: over the ${megabytes(sandboxes.limits.maxTurnFileBytes)} sent per answer)`;
  for (const file of latest.values()) {
    const name = baseName(file.path);
    if (files.length >= MAX_FILES) {
      skippedFiles.push(`${name} (at most ${MAX_FILES} files are sent per answer)`);
      continue;
    }
    if (file.size > room) {
      skippedFiles.push(overRoom(name, file.size));
      continue;
    }
    try {
      const data = await sandboxes.download(sessionId, file.path, room);
      room -= data.length;
      files.push({ name: names.claim(name), mime: file.mime, data });
    } catch (error) {
      skippedFiles.push(unreadable(name, error, log));
    }
  }

  const tables: AnswerTable[] = [];
  const shownTables = results.flatMap((result, i) => (result.table ? [{ step: i + 1, table: result.table }] : [])).slice(-MAX_TABLES);
  for (const { step, table } of shownTables) {
    const entry: AnswerTable = { step, table };
    tables.push(entry);
    if (!table.csv) continue;
    const name = `table-${step}.csv`;
    if (table.csv.bytes > room) {
      skippedFiles.push(overRoom(name, table.csv.bytes));
      continue;
    }
    try {
      const data = await sandboxes.download(sessionId, table.csv.path, room);
      room -= data.length;
      entry.csv = { name: names.claim(name), mime: "text/csv", data };
    } catch (error) {
      skippedFiles.push(unreadable(name, error, log));
    }
  }

  const shownImages = results
    .flatMap((result, i) => result.images.map((image, j): ShownImage => ({ image, step: i + 1, n: j + 1, of: result.images.length })))
    .slice(0, MAX_IMAGES);
  const images = shownImages.map((shown): OutgoingFile => ({ name: names.claim(imageName(shown)), mime: shown.image.mime, data: Buffer.from(shown.image.data, "base64") }));
  return { images, tables, files, skippedFiles };
}
