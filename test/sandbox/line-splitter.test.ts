import { describe, expect, test } from "vitest";
import { lineSplitter } from "../../src/sandbox/line-splitter.js";

function feed(maxLineBytes: number, chunks: Buffer[]): { lines: string[]; oversize: number[] } {
  const lines: string[] = [];
  const oversize: number[] = [];
  const splitter = lineSplitter((line) => lines.push(line), maxLineBytes, (bytes) => oversize.push(bytes));
  for (const chunk of chunks) splitter.write(chunk);
  return { lines, oversize };
}

describe("the sandbox's stdout is split into lines within a hard cap", () => {
  test("lines split across chunks and several lines in one chunk, multi-byte characters intact", () => {
    const text = Buffer.from('{"a":"é"}\n{"b":2}\n{"c":');
    const { lines } = feed(1024, [text.subarray(0, 7), text.subarray(7), Buffer.from("3}\n")]);
    expect(lines).toEqual(['{"a":"é"}', '{"b":2}', '{"c":3}']);
  });

  test("an endless line costs linear time, is never held past the cap, and splitting resumes after it", () => {
    const chunk = Buffer.alloc(65536, 120);
    const chunks = Array.from({ length: 1024 }, () => chunk); // 64 MiB without a newline
    const started = performance.now();
    const rss = process.memoryUsage().rss;
    const { lines, oversize } = feed(1 << 20, [...chunks, Buffer.from("tail\nnext\n")]);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(process.memoryUsage().rss - rss).toBeLessThan(64 << 20);
    expect(oversize).toHaveLength(1);
    expect(oversize[0]).toBeGreaterThan(1 << 20);
    expect(lines).toEqual(["next"]);
  });
});
