import { Writable } from "node:stream";

/**
 * A writable stream that calls onLine for each complete line written to it (bytes, split on
 * "\n", decoded as UTF-8). Each chunk is scanned once, so a long line costs linear time; a line
 * longer than maxLineBytes is never held: onOversize is called as soon as it passes the limit, its
 * bytes are dropped as they come, and splitting resumes after its newline.
 */
export function lineSplitter(onLine: (line: string) => void, maxLineBytes: number, onOversize: (bytes: number) => void = () => undefined): Writable {
  let pieces: Buffer[] = [];
  let held = 0;
  let skipping = false;
  const overflow = (bytes: number) => {
    pieces = [];
    held = 0;
    onOversize(bytes);
  };
  const take = (chunk: Buffer) => {
    let start = 0;
    for (let newline = chunk.indexOf(10); newline >= 0; newline = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, newline);
      start = newline + 1;
      if (skipping) {
        skipping = false;
        continue;
      }
      if (held + piece.length > maxLineBytes) {
        overflow(held + piece.length);
        continue;
      }
      const line = (pieces.length ? Buffer.concat([...pieces, piece]) : piece).toString("utf8");
      pieces = [];
      held = 0;
      if (line.trim()) onLine(line);
    }
    const rest = chunk.subarray(start);
    if (!rest.length) return;
    if (skipping) return;
    if (held + rest.length > maxLineBytes) {
      skipping = true;
      overflow(held + rest.length);
    } else {
      pieces.push(Buffer.from(rest));
      held += rest.length;
    }
  };
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      take(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
      done();
    },
  });
}
