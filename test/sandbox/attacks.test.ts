import { beforeAll, describe, expect, test } from "vitest";
import { isGvisor } from "../../src/sandbox/docker/container-spec.js";
import { sandboxRuntimes } from "../support/runtimes.js";
import { useSandboxes } from "../support/sandbox-fixture.js";

// Each attack that was contained stays here as a regression test. Every one must end in a result a
// person can read, and the next execution in the same session must work.
process.env.OPENAI_API_KEY = "sk-test-must-never-reach-a-sandbox";
process.env.SLACK_BOT_TOKEN = "xoxb-must-never-reach-a-sandbox";
process.env.SLACK_SIGNING_SECRET = "signing-secret-must-never-reach-a-sandbox";

describe.each(await sandboxRuntimes())("under %s", (runtime) => {
  const { manager } = useSandboxes({
    SANDBOX_RUNTIME: runtime,
    SANDBOX_MEMORY_MB: "256",
    SANDBOX_DISK_MB: "32",
    SANDBOX_PIDS_LIMIT: "64",
    SANDBOX_TIMEOUT_SECONDS: "4",
    SANDBOX_MAX_OUTPUT_BYTES: "65536",
  });

  const S = "attacks";

  async function stillWorks(): Promise<void> {
    const result = await manager.execute(S, "print('alive')");
    expect(result).toMatchObject({ status: "ok", stdout: "alive\n" });
  }

  beforeAll(async () => {
    await manager.execute(S, "marker = 'kept'\nopen('/mnt/data/keep.txt', 'w').write('kept')");
  });

  describe("network", () => {
    test("there is no interface but loopback", async () => {
      const result = await manager.execute(S, "import socket\nsorted(name for _, name in socket.if_nameindex())");
      expect(result.result).toBe("['lo']");
    });

    test("TCP to an outside address fails at once", async () => {
      // 192.0.2.1 is TEST-NET-1 (RFC 5737): never routed, and with no network nothing leaves anyway.
      const result = await manager.execute(S, "import socket\nsocket.create_connection(('192.0.2.1', 80), timeout=3)");
      expect(result.status).toBe("error");
      expect(result.error?.name).toMatch(/OSError|TimeoutError/);
      expect(result.error?.value).toMatch(/unreachable|No route|timed out/i);
      expect(result.durationMs).toBeLessThan(3000);
    });

    test("DNS resolves nothing", async () => {
      const result = await manager.execute(S, "import socket\nsocket.getaddrinfo('example.com', 443)");
      expect(result.status).toBe("error");
      expect(result.error?.name).toBe("gaierror");
    });
  });

  describe("resources", () => {
    test("a fork bomb hits the process limit and is cleaned up", async () => {
      const result = await manager.execute(S, "import os\nwhile True:\n    os.fork()");
      if (isGvisor(runtime) && result.status === "killed") {
        // gVisor holds every process of the sandbox in one host process. On a loaded machine the fork
        // bomb can outrun the supervisor's memory watch (they share one CPU) and the sandbox ends
        // whole: still a clear, bounded outcome, and the next execution works in a fresh session.
        expect(result.notes.join(" ")).toMatch(/stopped unexpectedly and was discarded/);
        await stillWorks();
        await manager.execute(S, "marker = 'kept'\nopen('/mnt/data/keep.txt', 'w').write('kept')");
        return;
      }
      if (isGvisor(runtime)) {
        // Usually the supervisor's memory watch ends the code's processes first: files kept.
        expect(["error", "timeout", "oom"]).toContain(result.status);
        expect((await manager.execute(S, "open('/mnt/data/keep.txt').read()")).result).toBe("'kept'");
        await stillWorks();
        await manager.execute(S, "marker = 'kept'");
        return;
      }
      expect(["error", "timeout"]).toContain(result.status);
      const count = await manager.execute(S, "import os\nlen([p for p in os.listdir('/proc') if p.isdigit()])");
      expect(Number(count.result)).toBeLessThanOrEqual(3); // supervisor, kernel, and the listing's own view
      await stillWorks();
    });

    test("a shell fork bomb is stopped at the timeout", async () => {
      const result = await manager.execute(S, "import subprocess\nsubprocess.run(['bash', '-c', ':(){ :|:& };:; sleep 60'])", { timeoutMs: 3000 });
      expect(result.status).toBe("timeout");
      await stillWorks();
    });

    test("a memory bomb ends as 'oom': variables are lost, files are kept (or, under gVisor, a MemoryError)", async () => {
      const result = await manager.execute(S, "hog = []\nwhile True:\n    hog.append(bytearray(10**7))");
      if (isGvisor(runtime) && result.status === "error") {
        // Under gVisor the code's memory is capped inside: one allocation past RLIMIT_AS is a MemoryError.
        expect(result.error?.name).toBe("MemoryError");
        await manager.execute(S, "del hog\nmarker = 'kept'");
        return;
      }
      expect(result.status).toBe("oom");
      expect(result.stateLost).toBe(true);
      expect(result.notes.join(" ")).toMatch(/ran out of memory/);
      const after = await manager.execute(S, "print('marker' in globals(), open('/mnt/data/keep.txt').read())");
      expect(after.stdout).toBe("False kept\n");
      await manager.execute(S, "marker = 'kept'");
    });

    test("a CPU spin past the timeout is interrupted and the session keeps its variables", async () => {
      const result = await manager.execute(S, "while True:\n    pass");
      expect(result.status).toBe("timeout");
      expect(result.stateLost).toBe(false);
      expect(result.error?.name).toBe("KeyboardInterrupt");
      expect((await manager.execute(S, "marker")).result).toBe("'kept'");
    });

    test("code that ignores the interrupt is killed and the session restarts, saying so", async () => {
      const result = await manager.execute(S, "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass");
      expect(result).toMatchObject({ status: "timeout", stateLost: true });
      expect(result.notes.join(" ")).toMatch(/restarted/);
      await stillWorks();
      await manager.execute(S, "marker = 'kept'");
    });

    test("killing its own Python process restarts the session with a clear note", async () => {
      const result = await manager.execute(S, "import os\nos._exit(3)");
      expect(result).toMatchObject({ status: "killed", stateLost: true });
      expect(result.notes.join(" ")).toMatch(/exit code 3/);
      await stillWorks();
    });

    test("the supervisor (PID 1) can't be signalled from inside: SIGKILL and SIGTERM are refused", async () => {
      for (const signal of ["SIGKILL", "SIGTERM"]) {
        const result = await manager.execute(S, `import os, signal\nos.kill(1, signal.${signal})`);
        expect(result.error?.name).toBe("PermissionError");
      }
      await stillWorks();
    });

    test("100 MB of stdout is truncated at the cap with a note, head and tail kept", async () => {
      const result = await manager.execute(S, "import sys\nprint('FIRST')\nfor _ in range(100):\n    sys.stdout.write('x' * (1 << 20))\nprint('LAST')");
      expect(result.status).toBe("ok");
      expect(result.stdout.length).toBeLessThan(70_000);
      expect(result.stdout.startsWith("FIRST\n")).toBe(true);
      expect(result.stdout.endsWith("LAST\n")).toBe(true);
      expect(result.stdout).toMatch(/output truncated: \d+\.\d MB not shown/);
      expect(result.notes.join(" ")).toMatch(/truncated/);
      await stillWorks();
    });

    test("filling /mnt/data past its cap fails cleanly and says the disk is full", async () => {
      const result = await manager.execute(S, "with open('/mnt/data/fill.bin', 'wb') as f:\n    while True:\n        f.write(b'\\0' * (1 << 20))");
      expect(result.status).toBe("error");
      expect(result.error?.value).toMatch(/No space left|File too large/);
      expect(result.notes.join(" ")).toMatch(/disk for \/mnt\/data is full/);
      const freed = await manager.execute(S, "import os\nos.remove('/mnt/data/fill.bin')\nopen('/mnt/data/small.txt', 'w').write('ok')");
      expect(freed.status).toBe("ok");
    });

    test("the root filesystem is read-only and /tmp is capped", async () => {
      const result = await manager.execute(S, "open('/usr/evil', 'w')");
      expect(result.error?.value).toMatch(/Read-only file system|Permission denied/);
      const root = await manager.execute(S, "next(line.split()[3].split(',')[0] for line in open('/proc/mounts') if line.split()[1] == '/')");
      expect(root.result).toBe("'ro'");
      const tmp = await manager.execute(S, "try:\n    with open('/tmp/big', 'wb') as f:\n        for _ in range(200):\n            f.write(b'\\0' * (1 << 20))\nfinally:\n    import os\n    os.path.exists('/tmp/big') and os.remove('/tmp/big')");
      expect(tmp.error?.value).toMatch(/No space left|File too large/);
      await stillWorks();
    });
  });

  describe("secrets and privileges", () => {
    test("the host's environment does not reach the sandbox", async () => {
      const result = await manager.execute(
        S,
        "import os\nseen = dict(os.environ)\nfor pid in ('1', 'self'):\n    seen[pid] = open(f'/proc/{pid}/environ', 'rb').read().decode(errors='replace')\nprint(repr(seen))",
      );
      expect(result.stdout).not.toContain("must-never-reach");
      expect(result.stdout).not.toMatch(/OPENAI_API_KEY|SLACK_BOT_TOKEN|SLACK_SIGNING_SECRET|DOCKER_HOST/);
    });

    test("there is no Docker socket to find", async () => {
      const result = await manager.execute(
        S,
        "import os, glob\nhits = [p for p in ['/var/run/docker.sock', '/run/docker.sock'] if os.path.exists(p)]\nhits += [line for line in open('/proc/mounts') if 'docker.sock' in line]\nhits += [p for root in ('/run', '/var', '/tmp', '/mnt', '/opt', '/home', '/root') for p in glob.glob(root + '/**/*.sock', recursive=True)]\nhits",
      );
      expect(result.result).toBe("[]");
    });

    test("code runs as an unprivileged user with no capabilities and no way to gain them", async () => {
      const result = await manager.execute(
        S,
        "import os, ctypes\nstatus = dict(line.split(':\\t', 1) for line in open('/proc/self/status').read().splitlines() if ':\\t' in line)\nprint(os.getuid(), os.geteuid(), status['CapEff'].strip(), status['CapBnd'].strip(), ctypes.CDLL(None).prctl(39, 0, 0, 0, 0))",
      );
      expect(result.stdout).toBe("1000 1000 0000000000000000 0000000000000000 1\n");
      const sudo = await manager.execute(S, "import subprocess\nsubprocess.run(['su', '-c', 'id'], capture_output=True, input=b'\\n').returncode");
      expect(sudo.result).not.toBe("0");
    });
  });
});
