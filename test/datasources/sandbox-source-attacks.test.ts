import Docker from "dockerode";
import { pino } from "pino";
import { describe, expect, test } from "vitest";
import type { Caller } from "../../src/datasources/data-sources.js";
import { sessionCallHandler } from "../../src/datasources/session-call-handler.js";
import { DockerSandbox } from "../../src/sandbox/docker/docker-sandbox.js";
import { ExecutionCalls } from "../../src/sandbox/execution-calls.js";
import { RunnerConnection } from "../../src/sandbox/runner-connection.js";
import { maxFrameBytes } from "../../src/sandbox/sandbox-limits.js";
import type { SessionCallHandler } from "../../src/sandbox/session-calls.js";
import { sandboxRuntimes } from "../support/runtimes.js";
import { useSandboxes } from "../support/sandbox-fixture.js";
import { useSourceServers } from "../support/source-fixture.js";

/**
 * A session's data-source calls are hostile: forged frames, oversized fields, links, FIFOs and
 * filled files planted where the answer goes, calls from threads, calls with nothing to answer
 * them, and two worker processes answering one execution. Each ends in a clear, bounded outcome,
 * under every runtime the engine has.
 */

const servers = useSourceServers();

describe.each(await sandboxRuntimes())("under %s", (runtime) => {
  const { manager } = useSandboxes({ SANDBOX_RUNTIME: runtime, SANDBOX_POOL_SIZE: "0", SANDBOX_TIMEOUT_SECONDS: "20" });
  const caller = (session: string): Caller => ({ channel: "local:-:cli", user: "local:U1", thread: `local:-:cli:${session}`, requestId: `req-${session}` });
  const run = (session: string, code: string) => manager.execute(session, code, { onCall: sessionCallHandler(servers.sources, caller(session), () => undefined) });

  const LINK = "import os, secrets\nfrom codebot import link\ntoken = secrets.token_hex(12)\nos.makedirs('/mnt/data/.codebot/sources', exist_ok=True)\npath = '/mnt/data/.codebot/sources/%s.data' % token\n";

  test("a forged call frame without a call id breaks the protocol: that Python session is replaced", async () => {
    await run("h", "keep = 1");
    const result = await run("h", "import json, os\nos.write(4, (json.dumps({'op': 'call', 'call': '../x', 'kind': 'sql'}) + '\\n').encode())\nimport time\ntime.sleep(5)");
    expect(result).toMatchObject({ status: "killed", stateLost: true });
    expect(result.notes.join(" ")).toMatch(/tampered with the runner's private channel \(a data-source call without a call id\)/);
    expect((await run("h", "'keep' in globals()")).result).toBe("False");
  });

  test("oversized or malformed fields are refused with an answer, the session kept", async () => {
    const result = await run("h", `${LINK}open(path, 'w').close(); os.chmod(path, 0o602)\nprint(link.call({'op': 'call', 'call': token, 'kind': 'sql', 'source': 'shop', 'statement': 'x' * 300000})['error'])\nprint(link.call({'op': 'call', 'call': token, 'kind': 'sql', 'source': 'shop', 'statement': 'select 1', 'params': [{'a': 1}]})['error']['code'])\nprint(link.call({'op': 'call', 'call': token, 'kind': 'drop'})['error']['code'])`);
    expect(result.stdout).toBe("{'code': 'bad-request', 'message': 'The call was refused: the statement is not a text of at most 262144 characters.'}\nbad-request\nbad-request\n");
    expect(result.stateLost).toBe(false);
  });

  test("a link, a FIFO or a non-empty file planted where the answer goes is never written", async () => {
    const result = await run(
      "h",
      [
        LINK,
        "victim = '/mnt/data/victim.txt'",
        "open(victim, 'w').write('untouched')",
        "os.symlink(victim, path)",
        "print(link.call({'op': 'call', 'call': token, 'kind': 'sql', 'source': 'shop', 'statement': 'select 1'})['error']['code'])",
        "token2 = secrets.token_hex(12); fifo = '/mnt/data/.codebot/sources/%s.data' % token2",
        "os.mkfifo(fifo, 0o606)",
        "print(link.call({'op': 'call', 'call': token2, 'kind': 'sql', 'source': 'shop', 'statement': 'select 1'})['error']['code'])",
        "token3 = secrets.token_hex(12); full = '/mnt/data/.codebot/sources/%s.data' % token3",
        "open(full, 'w').write('already'); os.chmod(full, 0o606)",
        "print(link.call({'op': 'call', 'call': token3, 'kind': 'sql', 'source': 'shop', 'statement': 'select 1'})['error']['code'])",
        "print(open(victim).read(), open(full).read())",
      ].join("\n"),
    );
    expect(result.stdout).toBe("bad-request\nbad-request\nbad-request\nuntouched already\n");
    expect(result.durationMs).toBeLessThan(5000);
  });

  test("two worker processes attached to one execution (a takeover) both answer: the sandbox keeps the first one's answer whole", async () => {
    await run("twice", "ready = 1");
    const session = await manager.session("twice");
    const second = await RunnerConnection.attach(new DockerSandbox(new Docker().getContainer(session.sandboxId)), pino({ level: "silent" }), maxFrameBytes(manager.limits));
    const answer = (letter: string, pauseMs: number): SessionCallHandler => async (_call, sink) => {
      for (let i = 0; i < 5; i++) {
        await sink.write(Buffer.from(`${letter.repeat(9)}\n`));
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
      return { columns: [{ name: "v", type: "text" }], rows: 5 };
    };
    const other = new ExecutionCalls("takeover-1", second, answer("B", 30), Date.now() + 30_000, pino({ level: "silent" }));
    try {
      const result = await manager.execute("twice", "from codebot import sql\n''.join(sorted(set(''.join(sql('shop', 'select 1')['v']))))", { executionId: "takeover-1", onCall: answer("A", 20) });
      expect(["'A'", "'B'"]).toContain(result.result);
    } finally {
      other.end();
      second.close();
    }
  });

  test("calls come from the cell's own thread only", async () => {
    const result = await run("h", "import threading\nfrom codebot import sql, DataSourceError\nout = []\ndef go():\n    try:\n        sql('shop', 'select 1')\n    except DataSourceError as error:\n        out.append(error.code)\nt = threading.Thread(target=go); t.start(); t.join()\nout");
    expect(result.result).toBe("['bad-request']");
  });

  test("without a handler (codebot exec) a call is refused at once", async () => {
    const result = await manager.execute("h", "from codebot import sql, NotAllowedHere\ntry:\n    sql('shop', 'select 1')\nexcept NotAllowedHere as error:\n    print(error)");
    expect(result.stdout).toBe("Data sources are not available here (codebot was not given any for this execution).\n");
  });
});
