import { describe, expect, test } from "vitest";
import { checkObjectName, compareObjectNames, isObjectName, objectNameProblem } from "../../src/workspace/object-name.js";
import { checkWorkspaceId, isWorkspaceId, workspaceIdFor } from "../../src/workspace/workspace-id.js";
import { WorkspaceStoreError } from "../../src/workspace/workspace-store-error.js";
import { BAD_IDS, BAD_NAMES, ODD_NAMES } from "./store-contract.js";

describe("object names: relative POSIX paths, checked because a sandbox names them", () => {
  test.each(["files/report 1.csv", "files/sub/dir/x.txt", "state/namespace.pkl", "meta.json", ...ODD_NAMES])("%j is accepted", (name) => {
    expect(objectNameProblem(name)).toBeUndefined();
    expect(checkObjectName(name)).toBe(name);
  });

  test.each(BAD_NAMES.map((name) => [JSON.stringify(name).slice(0, 60), name]))("%s is refused", (_label, name) => {
    expect(isObjectName(name)).toBe(false);
    expect(() => checkObjectName(name)).toThrow(WorkspaceStoreError);
    try {
      checkObjectName(name);
    } catch (error) {
      expect((error as WorkspaceStoreError).code).toBe("BAD_NAME");
      if (name.length >= 8) expect((error as WorkspaceStoreError).message).not.toContain(name); // a hostile name is not echoed
    }
  });

  test.each([
    ["every C0 control character", Array.from({ length: 32 }, (_, code) => `files/a${String.fromCharCode(code)}b`)],
    ["DEL and the C1 controls", Array.from({ length: 33 }, (_, index) => `files/a${String.fromCharCode(0x7f + index)}b`)],
    ["lone surrogates", ["files/\udfff", "files/x\ud83d", "\ud83d/x"]],
    ["paragraph and line separators", ["files/\u2029", "\u2028"]],
  ])("%s are refused", (_label, names) => {
    for (const name of names) expect(isObjectName(name), JSON.stringify(name)).toBe(false);
  });

  test("the byte limits count UTF-8, not characters", () => {
    expect(isObjectName(`files/${"a".repeat(255)}`)).toBe(true);
    expect(isObjectName(`files/${"a".repeat(256)}`)).toBe(false);
    expect(isObjectName(`files/${"€".repeat(85)}`)).toBe(true); // 255 bytes
    expect(isObjectName(`files/${"€".repeat(86)}`)).toBe(false); // 258 bytes
    expect(isObjectName(`files/${"😀".repeat(63)}`)).toBe(true); // 252 bytes
    expect(isObjectName(`files/${"😀".repeat(64)}`)).toBe(false); // 256 bytes
    const whole = `${"abcdefg/".repeat(127)}abcdefgh`; // 1024 bytes
    expect(Buffer.byteLength(whole)).toBe(1024);
    expect(isObjectName(whole)).toBe(true);
    expect(isObjectName(`${whole}x`)).toBe(false);
  });

  test("emoji with joiners and combining marks are names like any other", () => {
    expect(isObjectName("files/👩‍👩‍👧 family.png")).toBe(true);
    expect(isObjectName("files/e\u0301cole.txt")).toBe(true);
  });

  test("non-strings are refused", () => {
    for (const value of [undefined, null, 42, ["files/x"], { name: "x" }]) expect(isObjectName(value)).toBe(false);
  });

  test("names sort by UTF-8 bytes, as S3 lists keys", () => {
    const names = ["files/b", "files/a/x", "files/A", "files/a", "files/😀", "files/\uffff", "files/é", "files/a-b"];
    expect([...names].sort(compareObjectNames)).toEqual(["files/A", "files/a", "files/a-b", "files/a/x", "files/b", "files/é", "files/\uffff", "files/😀"]);
  });
});

describe("workspace ids: the SHA-256 of the thread's key", () => {
  test("the same key gives the same id, other keys other ids, each 64 lowercase hex digits", () => {
    const id = workspaceIdFor("slack:T1:C1:1700000000.000100");
    expect(id).toBe(workspaceIdFor("slack:T1:C1:1700000000.000100"));
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(workspaceIdFor("slack:T1:C1:1700000000.000101")).not.toBe(id);
    expect(workspaceIdFor("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  test("keys that hold paths don't make paths", () => {
    for (const key of ["../../etc", "/", "a/b", "\u0000", "x".repeat(10_000)]) expect(isWorkspaceId(workspaceIdFor(key))).toBe(true);
  });

  test("anything else is not an id", () => {
    for (const bad of BAD_IDS) {
      expect(isWorkspaceId(bad)).toBe(false);
      expect(() => checkWorkspaceId(bad)).toThrow(expect.objectContaining({ code: "BAD_NAME" }));
    }
    expect(isWorkspaceId(42)).toBe(false);
  });
});
