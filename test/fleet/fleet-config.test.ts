import { describe, expect, test } from "vitest";
import { chooseHost } from "../../src/fleet/placement.js";
import { ConfigError, loadConfig } from "../../src/config.js";
import { insecureHostWarning, parseHosts } from "../../src/core/host-spec.js";

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
    expect(() => parseHosts("a=tcp://x:1?tls=/t&weight=0")).toThrow(/weight must be a whole number/);
    expect(() => parseHosts("a=tcp://x:1?tls=/t&colour=red")).toThrow(/unknown option colour/);
    expect(() => parseHosts("a=tcp://x:1?tls=/t,a=tcp://y:1?tls=/t")).toThrow(/listed twice/);
    expect(() => parseHosts("not an address")).toThrow(/not an engine address/);
  });

  test("a tcp:// engine without TLS is refused, in one line naming TLS and the ways out; ssh:// and unix:// need none", () => {
    for (const entry of ["tcp://10.0.0.7:2375", "plain=tcp://10.0.0.7:2375?weight=2", "local=unix:///var/run/docker.sock,plain=tcp://10.0.0.7:2375"]) {
      let message = "";
      try {
        parseHosts(entry);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message, entry).toMatch(/^"[^"]*tcp:\/\/10\.0\.0\.7:2375[^"]*" is tcp:\/\/ without TLS.*\?tls=DIR.*\?insecure=true/);
      expect(message).not.toContain("\n");
    }
    expect(parseHosts("a=ssh://ops@h,b=unix:///var/run/docker.sock").map((host) => host.insecure)).toEqual([undefined, undefined]);
  });

  test("insecure=true accepts a tcp:// engine without TLS on purpose (then warned about); nowhere else, and only as true", () => {
    const [host] = parseHosts("lab=tcp://10.0.0.9:2375?insecure=true&weight=3");
    expect(host).toEqual({ name: "lab", address: "tcp://10.0.0.9:2375", weight: 3, maxSessions: undefined, tlsDir: undefined, insecure: true });
    expect(insecureHostWarning([host!])).toBe(
      "SANDBOX_HOSTS: lab is reached over tcp:// without TLS (insecure=true): whoever can reach or watch that address controls its engine and every sandbox on it",
    );
    expect(insecureHostWarning(parseHosts("a=tcp://x:1?tls=/t,b=unix:///s"))).toBeUndefined();
    expect(() => parseHosts("a=tcp://x:1?insecure=yes")).toThrow(/insecure can only be true/);
    expect(() => parseHosts("a=tcp://x:1?insecure=true&tls=/t")).toThrow(/insecure=true is only for a tcp:\/\/ engine without tls=DIR/);
    expect(() => parseHosts("a=ssh://u@h?insecure=true")).toThrow(/insecure=true is only for a tcp:\/\/ engine/);
  });
});

describe("SANDBOX_HOSTS at config load", () => {
  test("a tcp:// host without TLS stops the start: the problem is one line naming SANDBOX_HOSTS and TLS", () => {
    let message = "";
    try {
      loadConfig({ SANDBOX_HOSTS: "local=unix:///var/run/docker.sock,big=tcp://10.0.0.7:2375" });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    const problems = message.split("\n").slice(1);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^ {2}SANDBOX_HOSTS: "big=tcp:\/\/10\.0\.0\.7:2375" is tcp:\/\/ without TLS/);
    expect(() => loadConfig({ SANDBOX_HOSTS: "big=tcp://10.0.0.7:2375?insecure=true" })).not.toThrow();
    expect(() => loadConfig({ SANDBOX_HOSTS: "big=tcp://10.0.0.7:2376?tls=/etc/codebot/big" })).not.toThrow();
    expect(() => loadConfig({ SANDBOX_HOSTS: "x=http://h:1" })).toThrow(/SANDBOX_HOSTS: "x=http:\/\/h:1": the address must start/);
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
