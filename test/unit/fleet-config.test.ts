import { describe, expect, test } from "vitest";
import { chooseHost } from "../../src/fleet/placement.js";
import { parseHosts } from "../../src/fleet/host-spec.js";

describe("SANDBOX_HOSTS", () => {
  test("names, addresses, weights, caps and TLS folders are read; a host is known by its name or its address", () => {
    expect(parseHosts("local=unix:///var/run/docker.sock, big=tcp://10.0.0.7:2376?tls=/etc/codebot/big&weight=2&max=80,ssh://ops@sandbox-3")).toEqual([
      { name: "local", address: "unix:///var/run/docker.sock", weight: 1, maxSessions: undefined, tlsDir: undefined },
      { name: "big", address: "tcp://10.0.0.7:2376", weight: 2, maxSessions: 80, tlsDir: "/etc/codebot/big" },
      { name: "ssh://ops@sandbox-3", address: "ssh://ops@sandbox-3", weight: 1, maxSessions: undefined, tlsDir: undefined },
    ]);
  });

  test("a bad entry is refused with the entry named", () => {
    expect(() => parseHosts("http://x:2375")).toThrow(/"http:\/\/x:2375": the address must start with unix:\/\/, tcp:\/\/ or ssh:\/\//);
    expect(() => parseHosts("a=tcp://x:1?weight=0")).toThrow(/weight must be a whole number/);
    expect(() => parseHosts("a=tcp://x:1?colour=red")).toThrow(/unknown option colour/);
    expect(() => parseHosts("a=tcp://x:1,a=tcp://y:1")).toThrow(/listed twice/);
    expect(() => parseHosts("not an address")).toThrow(/not an engine address/);
  });
});

describe("placement", () => {
  const host = (name: string, load: number, extra: object = {}) => ({ name, weight: 1, maxSessions: 10, load, ...extra });

  test("the host with the most room, weighted; never a down or drained one", () => {
    expect(chooseHost([host("a", 5), host("b", 2)])).toBe("b");
    expect(chooseHost([host("a", 5, { weight: 3 }), host("b", 2)])).toBe("a"); // 0.5 × 3 > 0.8
    expect(chooseHost([host("a", 0, { state: { failures: 3, down: true, drained: false } }), host("b", 9)])).toBe("b");
    expect(chooseHost([host("a", 0, { state: { failures: 0, down: false, drained: true } }), host("b", 9)])).toBe("b");
    expect(chooseHost([host("a", 0, { state: { failures: 3, down: true, drained: false } })])).toBeUndefined();
    expect(chooseHost([host("a", 10), host("b", 12)])).toBeDefined(); // all full: the managers make room or refuse
  });

  test("ties are broken at random, so a burst of new threads spreads out", () => {
    const picks = new Set([0, 0.99].map((value) => chooseHost([host("a", 3), host("b", 3)], () => value)));
    expect(picks).toEqual(new Set(["a", "b"]));
  });
});
