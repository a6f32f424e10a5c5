import Docker from "dockerode";
import { describe, expect, test } from "vitest";
import { threadKey } from "../../src/core/chat-request.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { SessionCatalog } from "../../src/fleet/session-catalog.js";
import { createRedis } from "../../src/redis/redis-connection.js";
import { LABEL_NAMESPACE } from "../../src/sandbox/docker/container-spec.js";
import { sessionNaming } from "../../src/sandbox/session-naming.js";
import { createSandboxes } from "../../src/app/sandboxes.js";
import { useDockerEngine } from "../support/docker-engine.js";
import { answerText, finalReply, localRequest } from "../support/local-turns.js";
import { usePipeline } from "../support/pipeline-fixture.js";
import { runCli } from "../support/run-cli.js";

// A second engine of the test's own; the first is the machine's. Registered before the pipeline, so
// the workers are gone before it is.
const second = useDockerEngine();
// Sessions stay awake a minute unless something puts them to sleep: a busy machine takes more than
// 10 s for the turns of the first test, and a thread that slept may be placed afresh elsewhere.
const pipeline = usePipeline(
  { SANDBOX_IDLE_TIMEOUT_SECONDS: "60", SANDBOX_HOST_CHECK_SECONDS: "1", SANDBOX_HOST_DOWN_AFTER: "2", OUTAGE_WAIT_SECONDS: "30", QUEUE_LOCK_SECONDS: "5" },
  async () => ({ SANDBOX_HOSTS: `main=unix:///var/run/docker.sock,second=${second.engine.host}` }),
);

const fenced = (code: string) => `\`\`\`python\n${code}\n\`\`\``;
const sessionOf = (thread: string) => threadKey(localRequest(thread, "").conversation);

async function turn(thread: string, code: string, timeoutMs?: number): Promise<string> {
  const request = localRequest(thread, fenced(code));
  await pipeline.queue.enqueue(request);
  return answerText((await finalReply(pipeline, request.eventId, timeoutMs)).replies);
}

const catalog = () => new SessionCatalog(pipeline.redis, pipeline.env.QUEUE_PREFIX!, pipeline.env.SANDBOX_NAMESPACE!);
const hostOf = async (thread: string) => (await catalog().locate(sessionOf(thread)))?.host;
/** `codebot hosts …`; a drain or undrain is waited for past the workers' half-second cache of host marks. */
const hosts = async (...args: string[]) => {
  const run = await runCli(["hosts", ...args], { env: pipeline.env });
  if (args[0] === "drain" || args[0] === "undrain") await new Promise((resolve) => setTimeout(resolve, 1000));
  return run;
};

/** The namespace's running session containers on an engine, by name. */
async function sessionNames(docker: Docker): Promise<string[]> {
  const all = await docker.listContainers({ filters: { label: [`${LABEL_NAMESPACE}=${pipeline.env.SANDBOX_NAMESPACE}`] } });
  return all.flatMap((info) => info.Names.map((name) => name.replace(/^\//, ""))).filter((name) => name.includes("-s-"));
}

/** What of the namespace is on an engine: session containers (any state) and warm pool members. */
async function leftOn(docker: Docker): Promise<{ sessions: number; pool: number }> {
  const all = await docker.listContainers({ all: true, filters: { label: [`${LABEL_NAMESPACE}=${pipeline.env.SANDBOX_NAMESPACE}`] } });
  const names = all.flatMap((info) => info.Names.map((name) => name.replace(/^\//, "")));
  return { sessions: names.filter((name) => name.includes("-s-")).length, pool: names.filter((name) => name.includes("-pool-")).length };
}

/** For a failure's message: the namespace's containers on an engine, and what the worker logged of them. */
async function whatIsLeft(docker: Docker): Promise<string> {
  const all = await docker.listContainers({ all: true, filters: { label: [`${LABEL_NAMESPACE}=${pipeline.env.SANDBOX_NAMESPACE}`] } });
  const left = all.map((info) => `${info.Names.join(",")} ${info.State} ${info.Status}`);
  const ids = all.flatMap((info) => info.Names.map((name) => name.replace(/^\/.*-s-/, "")));
  const said = pipeline.worker.logs().split("\n").filter((line) => ids.some((id) => id && line.includes(id.replace(/_3a/g, ":"))) || /"level":[45]0/.test(line));
  return `left: ${left.join("; ")}\nworker log:\n${said.slice(-30).join("\n")}`;
}

interface HostRow {
  host: string;
  drained: boolean;
  drain: { sessions: number; pool: number; done: boolean } | null;
}
const hostRow = async (host: string) => (JSON.parse((await hosts("list", "--json")).stdout) as HostRow[]).find((row) => row.host === host)!;

describe("a fleet of sandbox hosts", () => {
  test("threads spread over both hosts, each keeps its host, and the catalog never points two threads at one container", async () => {
    const threads = Array.from({ length: 6 }, (_, i) => `spread-${i}`);
    const placed: Array<string | undefined> = [];
    // Each placement read right after its turn.
    for (const thread of threads) {
      expect(await turn(thread, `me = '${thread}'\nprint(me)`)).toContain(thread);
      placed.push(await hostOf(thread));
    }
    expect(new Set(placed)).toEqual(new Set(["main", "second"]));
    // Later turns land where the first did, and see its variables.
    for (const [i, thread] of threads.entries()) {
      expect(await turn(thread, "print('again', me)")).toContain(`again ${thread}`);
      expect(await hostOf(thread)).toBe(placed[i]);
    }
    const onMain = await sessionNames(new Docker());
    const onSecond = await sessionNames(second.engine.docker);
    expect(onMain.filter((name) => onSecond.includes(name))).toEqual([]);
    expect(new Set(onMain).size).toBe(onMain.length);
    expect(onMain.length + onSecond.length).toBeGreaterThanOrEqual(threads.length);
    const listed = JSON.parse((await hosts("list", "--json")).stdout) as Array<{ host: string; health: string; running: number }>;
    expect(listed.map((row) => [row.host, row.health])).toEqual([["main", "up"], ["second", "up"]]);
    expect(listed.every((row) => row.running > 0)).toBe(true);
  });

  test("two workers racing on a thread's first use place it once", async () => {
    const redis = createRedis(pipeline.env.REDIS_URL!);
    const config = loadConfig({ ...process.env, ...pipeline.env });
    const workers = [createSandboxes(config, createLogger("silent"), redis), createSandboxes(config, createLogger("silent"), redis)];
    try {
      const sessionId = sessionOf("raced");
      const routed = await Promise.all(Array.from({ length: 10 }, (_, i) => workers[i % 2]!.fleet!.route(sessionId)));
      expect(new Set(routed.map((member) => member.spec.name)).size).toBe(1);
      const results = await Promise.all(workers.map((worker) => worker.sandboxes.execute(sessionId, "import os\nprint(os.getpid())")));
      expect(results.every((result) => result.status === "ok")).toBe(true);
      const everywhere = [...(await sessionNames(new Docker())), ...(await sessionNames(second.engine.docker))];
      expect(everywhere.filter((name) => name.endsWith("raced")).length).toBe(1);
    } finally {
      await Promise.all(workers.map((worker) => Promise.all(worker.managers.map((manager) => manager.close()))));
      redis.disconnect();
    }
  });

  test("a turn that arrives while its session goes to sleep runs where the catalog says: no container is left that the catalog lost", async () => {
    const redis = createRedis(pipeline.env.REDIS_URL!);
    const worker = createSandboxes(loadConfig({ ...process.env, ...pipeline.env }), createLogger("silent"), redis);
    try {
      const sessionId = sessionOf("napping");
      // Saving this variable takes two seconds: the turn below arrives while the session goes to sleep.
      const slow = "import time\nclass Slow:\n    def __reduce__(self):\n        time.sleep(2)\n        return (Slow, ())\nslow = Slow()\nkept = 'yes'";
      expect(await worker.sandboxes.execute(sessionId, slow)).toMatchObject({ status: "ok" });
      const sleeping = worker.durable!.hibernate(sessionId);
      sleeping.catch(() => undefined); // awaited below, after the turn
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await worker.sandboxes.execute(sessionId, "kept")).toMatchObject({ status: "ok", result: "'yes'" });
      expect(await sleeping).toBe(true);
      const placed = (await catalog().locate(sessionId))?.host;
      const running = { main: await sessionNames(new Docker()), second: await sessionNames(second.engine.docker) };
      const where = Object.entries(running).filter(([, names]) => names.some((name) => name.endsWith("napping"))).map(([host]) => host);
      expect(where).toEqual([placed]);
    } finally {
      await Promise.all(worker.managers.map((manager) => manager.close()));
      redis.disconnect();
    }
  });

  test("a thread keeps its host and session when another worker takes its next turn", async () => {
    expect(await turn("handed", "kept = 7\nprint('one')")).toContain("one");
    const host = await hostOf("handed");
    await pipeline.worker.kill();
    pipeline.worker = await pipeline.startWorker();
    expect(await turn("handed", "print(kept * 6)")).toContain("42");
    expect(await hostOf("handed")).toBe(host);
  });

  test("draining a host moves its threads, with their files and variables, at their next turn", async () => {
    expect((await hosts("drain", "main")).stdout).toContain("Draining main");
    expect(await turn("mover", "moved = 'with me'\nopen('/mnt/data/luggage.txt', 'w').write('packed')\nprint('placed')")).toContain("placed");
    expect(await hostOf("mover")).toBe("second");
    await hosts("undrain", "main");
    await hosts("drain", "second");
    // Its worker puts it to sleep (a drained host's sessions don't wait for the idle timeout).
    const deadline = Date.now() + 30_000;
    while ((await hostOf("mover")) !== undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await hostOf("mover")).toBeUndefined();
    const after = await turn("mover", "print(moved, open('/mnt/data/luggage.txt').read())");
    expect(after).toContain("with me packed");
    expect(await hostOf("mover")).toBe("main");
    await hosts("undrain", "second");
  });

  test("draining a host empties it: sessions sleep as soon as no turn uses them, its pool goes, and `hosts list` shows what is left until nothing is", async () => {
    const threads = Array.from({ length: 7 }, (_, i) => `emptied-${i}`);
    for (const [i, thread] of threads.entries()) expect(await turn(thread, `n = ${i}\nopen('/mnt/data/n.txt', 'w').write(str(n))\nprint('set', n)`)).toContain(`set ${i}`);
    const onSecond: string[] = [];
    for (const thread of threads) if ((await hostOf(thread)) === "second") onSecond.push(thread);
    expect(onSecond.length).toBeGreaterThan(0);
    // The host's pool is topped up a moment after its last claim (REFILL_AFTER_CLAIM_MS).
    await expect.poll(async () => (await leftOn(second.engine.docker)).pool, { timeout: 60_000, interval: 250 }).toBeGreaterThan(0);
    try {
      // One thread on the host is running code (until released) as the drain starts: the drain can't finish before it does.
      const busy = localRequest(onSecond[0]!, fenced("import os, time\nwhile not os.path.exists('/tmp/release'):\n    time.sleep(0.05)\nprint('done at last', n)"));
      await pipeline.queue.enqueue(busy);
      await pipeline.worker.waitForLog(new RegExp(`"requestId":"${busy.eventId}".*"msg":"turn started"`));
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect((await hosts("drain", "second")).stdout).toContain("Draining second: no new sessions there and its warm pool is emptied");
      const during = await hostRow("second");
      expect(during.drain).toMatchObject({ done: false });
      expect(during.drain!.sessions).toBeGreaterThan(0);
      expect((await hosts("list")).stdout).toMatch(/\nsecond\tup\tdraining \(\d+ sessions?(, \d+ warm)? left\)\t/);
      const release = await second.engine.docker.getContainer(sessionNaming(pipeline.env.SANDBOX_NAMESPACE!).sessionName(sessionOf(onSecond[0]!))).exec({ Cmd: ["touch", "/tmp/release"] });
      await release.start({ Detach: true });
      expect(answerText((await finalReply(pipeline, busy.eventId)).replies)).toContain(`done at last ${threads.indexOf(onSecond[0]!)}`);

      // Right after that turn (and the idle ones at once): nothing is left there, and it stays so.
      const deadline = Date.now() + 30_000;
      while (!(await hostRow("second")).drain?.done && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
      expect((await hostRow("second")).drain, await whatIsLeft(second.engine.docker)).toEqual({ sessions: 0, pool: 0, done: true });
      // The busy thread's session slept because its host is drained, not after SANDBOX_IDLE_TIMEOUT_SECONDS.
      const slept = pipeline.worker.logs().split("\n").filter((line) => line.includes('"msg":"session of a drained host put to sleep"'));
      expect(slept.some((line) => line.includes(`"sessionId":${JSON.stringify(sessionOf(onSecond[0]!))}`))).toBe(true);
      for (const [i, thread] of threads.entries()) {
        expect(await turn(thread, "print('again', n, open('/mnt/data/n.txt').read())")).toContain(`again ${i} ${i}`);
        expect(await hostOf(thread)).toBe("main");
      }
      await new Promise((resolve) => setTimeout(resolve, 31_000)); // past a pool top-up (every 30 s here) and many sweeps
      expect(await leftOn(second.engine.docker)).toEqual({ sessions: 0, pool: 0 });
      expect((await hosts("list")).stdout).toMatch(/\nsecond\tup\tyes, empty\t0\t0\t/);
    } finally {
      await hosts("undrain", "second");
    }
  });

  test("a host that stops: the turn in flight fails plainly, and its threads carry on on the other host with their files", async () => {
    await hosts("drain", "main");
    expect(await turn("stranded", "open('/mnt/data/safe.txt', 'w').write('saved before')\nprint('on second')")).toContain("on second");
    expect(await hostOf("stranded")).toBe("second");
    await hosts("undrain", "main");
    const inFlight = localRequest("stranded", fenced("import time\ntime.sleep(20)\nprint('never')"));
    await pipeline.queue.enqueue(inFlight);
    await pipeline.worker.waitForLog(new RegExp(`"requestId":"${inFlight.eventId}".*"msg":"turn started"`));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const stopped = Date.now();
    await second.engine.stop();
    const failed = answerText((await finalReply(pipeline, inFlight.eventId, 60_000)).replies);
    expect(failed).not.toContain("never");
    expect(failed).toMatch(/stopped unexpectedly|could not|sandbox/i);
    const next = localRequest("stranded", fenced("print(open('/mnt/data/safe.txt').read())"));
    await pipeline.queue.enqueue(next);
    const { replies, at } = await finalReply(pipeline, next.eventId, 60_000);
    expect(answerText(replies)).toContain("saved before");
    expect(await hostOf("stranded")).toBe("main");
    expect(at - stopped).toBeLessThan(30_000);
    const listed = JSON.parse((await hosts("list", "--json")).stdout) as Array<{ host: string; health: string }>;
    expect(listed.find((row) => row.host === "second")?.health).toBe("down");
  });
});
