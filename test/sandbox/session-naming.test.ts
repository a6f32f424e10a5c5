import { describe, expect, test } from "vitest";
import { sessionNaming } from "../../src/sandbox/session-naming.js";

const naming = sessionNaming("codebot");
const DOCKER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

describe("session ids map to container names and back", () => {
  test.each(["t1", "slack:T024BE7LD:C0123:1700000000.123456", "discord/guild 1/thread ✓", "under_score"])("%j round-trips", (id) => {
    const name = naming.sessionName(id);
    expect(name).toMatch(DOCKER_NAME);
    expect(naming.sessionIdFromName(`/${name}`)).toBe(id);
  });

  test("distinct ids never share a name", () => {
    expect(naming.sessionName("a_b")).not.toBe(naming.sessionName("a:b"));
    expect(naming.sessionName("a-b")).not.toBe(naming.sessionName("a_2db"));
  });

  test("an id too long to escape is hashed into a valid, stable name", () => {
    const id = "x".repeat(500);
    expect(naming.sessionName(id)).toMatch(DOCKER_NAME);
    expect(naming.sessionName(id)).toBe(naming.sessionName(id));
    expect(naming.sessionIdFromName(naming.sessionName(id))).toBeUndefined();
  });

  test("pool containers are not sessions", () => {
    expect(naming.sessionIdFromName(naming.poolName())).toBeUndefined();
  });
});
