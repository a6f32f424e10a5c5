import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import { EXPORT_BOUNDS, recordedResultSchema, threadTurnSchema, type ThreadTurn } from "./turn-record.js";

/**
 * Where a thread log's images live, outside Redis: the thread's own workspace in the workspace store
 * (workspace-log-images.ts), under names this module makes. Bodies are at most
 * EXPORT_BOUNDS.maxImageBytes each.
 */
export interface LogImageStore {
  put(threadKey: string, name: string, body: Buffer): Promise<void>;
  /** The body, or undefined when it is gone (a /reset, the store's retention). */
  get(threadKey: string, name: string): Promise<Buffer | undefined>;
  delete(threadKey: string, names: string[]): Promise<void>;
}

/** An image's name in the store: made here only (a hash of the turn's event id, a nonce, its place). */
export const IMAGE_REF = /^images\/[0-9a-f]{32}\/[0-9a-f]{16}-\d{1,3}-\d{1,3}\.(png|jpg)$/;

const MIMES = ["image/png", "image/jpeg"] as const;
const storedImageSchema = z.object({ mime: z.enum(MIMES), ref: z.string().regex(IMAGE_REF), bytes: z.number().int().nonnegative().max(EXPORT_BOUNDS.maxImageBytes) });
const inlineImageSchema = z.object({ mime: z.enum(MIMES), data: z.string() });

/** A turn as the log stores it: images by reference (or inline, in records older than the store). */
export const storedTurnSchema = threadTurnSchema.extend({
  steps: z.array(z.object({ code: z.string(), result: recordedResultSchema.extend({ images: z.array(z.union([storedImageSchema, inlineImageSchema])) }) })),
});
export type StoredTurn = z.infer<typeof storedTurnSchema>;

/** A turn's images, taken out of its record: the record (references in their place) and the bodies to put. */
export interface SeparatedTurn {
  turn: StoredTurn;
  bodies: Array<{ name: string; body: Buffer }>;
  imageBytes: number;
}

const plural = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;

/** Puts a note first among a step's notes, within the bound of their count. */
const noted = (notes: string[], note: string) => [note, ...notes].slice(0, EXPORT_BOUNDS.maxNotes);

/**
 * Takes a bounded turn's images out of it. With a store, each becomes a reference to a body to put
 * there; without one they are dropped, and each step that had some says so (images are never kept
 * in Redis, whose memory every thread shares).
 */
export function separateImages(turn: ThreadTurn, withStore: boolean): SeparatedTurn {
  const bodies: SeparatedTurn["bodies"] = [];
  const folder = `images/${createHash("sha256").update(turn.eventId, "utf8").digest("hex").slice(0, 32)}`;
  const nonce = randomBytes(8).toString("hex");
  let imageBytes = 0;
  const steps = turn.steps.map((step, stepIndex) => {
    const { images, notes } = step.result;
    if (!images.length) return { ...step, result: { ...step.result, images: [] } };
    if (!withStore) {
      const note = `${plural(images.length, "image was", "images were")} left out of the export: no workspace store is configured (WORKSPACE_STORE=none), and images are not kept in Redis.`;
      return { ...step, result: { ...step.result, images: [], notes: noted(notes, note) } };
    }
    const refs = images.map((image, imageIndex) => {
      const body = Buffer.from(image.data, "base64");
      const name = `${folder}/${nonce}-${stepIndex}-${imageIndex}.${image.mime === "image/png" ? "png" : "jpg"}`;
      bodies.push({ name, body });
      imageBytes += body.length;
      return { mime: image.mime, ref: name, bytes: body.length };
    });
    return { ...step, result: { ...step.result, images: refs } };
  });
  return { turn: { ...turn, steps }, bodies, imageBytes };
}

/** The references of a stored turn's images (to delete them with it); none for an entry that didn't read as a turn. */
export function imageRefs(turn: StoredTurn | undefined): string[] {
  return (turn?.steps ?? []).flatMap((step) => step.result.images.flatMap((image) => ("ref" in image ? [image.ref] : [])));
}

/** The turn without the images whose put failed, each step that lost some saying so. */
export function withoutImages(turn: StoredTurn, failed: ReadonlyMap<string, number>): StoredTurn {
  const steps = turn.steps.map((step) => {
    const images = step.result.images.filter((image) => !("ref" in image && failed.has(image.ref)));
    const lost = step.result.images.length - images.length;
    if (!lost) return step;
    return { ...step, result: { ...step.result, images, notes: noted(step.result.notes, `${plural(lost, "image", "images")} could not be kept for the export (the workspace store failed).`) } };
  });
  return { ...turn, steps };
}

/**
 * A stored turn with its images back inline, as the notebook shows them. An image the store no
 * longer has (or that isn't the size recorded) is left out, and its step says so.
 */
export async function withImages(turn: StoredTurn, fetch: (ref: string) => Promise<Buffer | undefined>): Promise<ThreadTurn> {
  const steps = await Promise.all(
    turn.steps.map(async (step) => {
      let missing = 0;
      const images: ThreadTurn["steps"][number]["result"]["images"] = [];
      for (const image of step.result.images) {
        if (!("ref" in image)) {
          images.push(image);
          continue;
        }
        const body = await fetch(image.ref).catch(() => undefined);
        if (body && body.length === image.bytes) images.push({ mime: image.mime, data: body.toString("base64") });
        else missing++;
      }
      const notes = missing ? noted(step.result.notes, `${plural(missing, "image is", "images are")} no longer available (the thread's workspace was cleared or has expired).`) : step.result.notes;
      return { ...step, result: { ...step.result, images, notes } };
    }),
  );
  return { ...turn, steps };
}
