import { describe, expect, test } from "vitest";
import { safeFilename } from "../../src/sandbox/safe-filename.js";

describe("safeFilename: uploaded names are hostile input", () => {
  test.each([
    ["../../etc/passwd", "passwd"],
    ["C:\\Users\\me\\report.xlsx", "report.xlsx"],
    ["..", "file"],
    ["", "file"],
    [".bashrc", "bashrc"],
    ["a\u0000b\nc\u202Ed.csv", "abcd.csv"],
    ["what?<>|*.csv", "what_____.csv"],
    ["DES=+2006261.csv", "DES=+2006261.csv"],
    ["beauty and the labor market.csv", "beauty and the labor market.csv"],
    ["données été 数据.csv", "données été 数据.csv"],
  ])("%j becomes %j", (raw, safe) => {
    expect(safeFilename(raw)).toBe(safe);
  });

  test("a very long name is cut to 200 bytes, keeping its extension and whole characters", () => {
    const name = safeFilename(`${"é".repeat(300)}.parquet`);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(200);
    expect(name.endsWith(".parquet")).toBe(true);
    expect(name).not.toContain("\uFFFD");
  });

  test("decomposed accents are composed, so the same name is the same file", () => {
    expect(safeFilename("cafe\u0301.csv")).toBe("café.csv");
  });
});
