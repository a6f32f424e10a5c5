import { PassThrough } from "node:stream";

/** A writable stream that calls onLine for each complete UTF-8 line written to it. */
export function lineSplitter(onLine: (line: string) => void): PassThrough {
  const stream = new PassThrough();
  stream.setEncoding("utf8");
  let buffered = "";
  stream.on("data", (chunk: string) => {
    buffered += chunk;
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.trim()) onLine(line);
      newline = buffered.indexOf("\n");
    }
  });
  return stream;
}
