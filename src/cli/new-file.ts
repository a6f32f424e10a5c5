import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

const MAX_TRIES = 1000;

/**
 * Writes data to dir/name without ever replacing what is there: when the name is taken, the next
 * free one of "name (2).ext", "name (3).ext"… is used. Exclusive creation (O_EXCL), so neither a file
 * written meanwhile nor a symlink is followed or overwritten. Returns the path written.
 */
export async function writeNewFile(dir: string, name: string, data: Uint8Array): Promise<string> {
  await mkdir(dir, { recursive: true });
  const dot = name.lastIndexOf(".");
  const [stem, extension] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ""];
  for (let n = 1; n <= MAX_TRIES; n++) {
    const path = join(dir, n === 1 ? name : `${stem} (${n})${extension}`);
    try {
      await writeFile(path, data, { flag: "wx" });
      return path;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  throw new Error(`${join(dir, name)} and ${MAX_TRIES - 1} numbered variants exist already.`);
}
