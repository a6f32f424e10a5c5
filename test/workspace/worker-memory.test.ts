import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { threadKey } from "../../src/core/chat-request.js";
import { DirectoryStore } from "../../src/workspace/directory-store.js";
import { S3Store } from "../../src/workspace/s3-store.js";
import type { WorkspaceStore } from "../../src/workspace/workspace-store.js";
import { workspaceIdFor } from "../../src/workspace/workspace-id.js";
import { answerText, finalReply, localRequest } from "../support/local-turns.js";
import { usePipeline } from "../support/pipeline-fixture.js";
import { runCli } from "../support/run-cli.js";
import { sandboxRuntimes } from "../support/runtimes.js";
import { S3RVER_CREDENTIALS, startS3Server, type TestS3 } from "../support/s3-server.js";
import type { Pipeline } from "../support/pipeline-fixture.js";

// The reproduction of issue 17: a cell that wrote an empty file named `constructor` (or
// `__proto__`, `toString`…) next to big sparse files lifted every workspace cap. With three sparse
// 450 MB files the worker's checkpoint took 2.0 GB of resident memory and stored 1.35 GB; with nine
// 90 MB files it stored 810 MB, for threads capped at 200 MB. Here the same cells run against a
// real `codebot worker` process, whose peak resident memory (VmHWM) and stored bytes are measured.

const MB = 1024 * 1024;
const CAP_MB = 200;
/** Well below the reproduction's 2.0 GB: an idle worker, plus the fixed amount a few transfers hold. */
const PEAK_BOUND_MB = 450;

const NAMES = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"];
const sparseCell = (count: number, megabytes: number) =>
  [
    `for name in ${JSON.stringify(NAMES)}: open('/mnt/data/' + name, 'w').close()`,
    `for i in range(${count}):`,
    "    f = open('/mnt/data/sparse-%d.bin' % i, 'wb')",
    `    f.truncate(${megabytes} * 1024 * 1024)`,
    "    f.close()",
    "print('written')",
  ].join("\n");

function kilobytes(pid: number, field: "VmHWM" | "VmRSS"): number {
  const match = readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`${field}:\\s+(\\d+) kB`));
  if (!match) throw new Error(`no ${field} for ${pid}`);
  return Number(match[1]);
}

/** The reproduction against a pipeline's worker; `store` reads what it kept. */
function reproduction(pipeline: Pipeline, label: string, store: () => WorkspaceStore): void {
  async function turn(thread: string, code: string): Promise<string> {
    const request = localRequest(thread, `\`\`\`python\n${code}\n\`\`\``);
    await pipeline.queue.enqueue(request);
    return answerText((await finalReply(pipeline, request.eventId, 240_000)).replies);
  }

  const sessionOf = (thread: string) => threadKey(localRequest(thread, "").conversation);

  async function stored(thread: string): Promise<Map<string, number>> {
    const objects = await store().list(workspaceIdFor(`${pipeline.env.SANDBOX_NAMESPACE}/${sessionOf(thread)}`));
    return new Map(objects.filter((object) => object.name.startsWith("files/")).map((object) => [object.name.slice("files/".length), object.size]));
  }

  test("Object-key file names next to hundreds of MB of sparse files: the caps hold, and the worker's peak memory stays bounded", { timeout: 900_000 }, async () => {
    const pid = pipeline.worker.child.pid!;
    const idle = kilobytes(pid, "VmRSS");

    // The few-files path: three sparse 450 MB files, each far over SANDBOX_MAX_FILE_MB.
    const few = await turn("repro-few", sparseCell(3, 450));
    expect(few).toContain("written");
    expect(few).toMatch(/saved files are limited to 200 MB \(and 100 MB a file\): "sparse-0\.bin", "sparse-1\.bin", "sparse-2\.bin" could not be saved/);
    // The many-files path: nine sparse 90 MB files; two fit the cap.
    const many = await turn("repro-many", sparseCell(9, 90));
    expect(many).toMatch(/saved files are limited to 200 MB.*and 2 more could not be saved/s);

    const fewKept = await stored("repro-few");
    const manyKept = await stored("repro-many");
    expect([...fewKept.keys()].sort()).toEqual([...NAMES].sort());
    expect([...manyKept.keys()].sort()).toEqual([...NAMES, "sparse-0.bin", "sparse-1.bin"].sort());
    for (const kept of [fewKept, manyKept]) {
      const bytes = [...kept.values()].reduce((sum, size) => sum + size, 0);
      expect(bytes).toBeLessThanOrEqual(CAP_MB * MB);
    }
    expect(manyKept.get("sparse-0.bin")).toBe(90 * MB); // at its apparent size

    // Both go to sleep and come back: the files are streamed into fresh sandboxes, the Object-key names as ordinary files.
    for (const thread of ["repro-few", "repro-many"]) expect((await runCli(["sessions", "hibernate", sessionOf(thread)], { env: pipeline.env })).stdout).toContain("is asleep");
    const back = await turn("repro-many", `import os\nprint(sorted(os.listdir('/mnt/data')), sum(os.path.getsize('/mnt/data/' + n) for n in os.listdir('/mnt/data')))`);
    expect(back).toContain(`${JSON.stringify([...NAMES, "sparse-0.bin", "sparse-1.bin"].sort()).replaceAll('"', "'").replaceAll(",", ", ")} ${180 * MB}`);

    const peak = kilobytes(pid, "VmHWM");
    console.log(`[${label}] worker resident memory: ${Math.round(idle / 1024)} MiB at start, peak ${Math.round(peak / 1024)} MiB (the reproduction: 2.0 GB)`);
    expect(peak).toBeLessThan(PEAK_BOUND_MB * 1024);
  });
}

describe.each(await sandboxRuntimes())("under %s, directory store", (runtime) => {
  const pipeline = usePipeline({ SANDBOX_RUNTIME: runtime, WORKSPACE_MAX_MB: String(CAP_MB), SANDBOX_TIMEOUT_SECONDS: "120" });
  reproduction(pipeline, runtime, () => new DirectoryStore(pipeline.env.WORKSPACE_STORE!));
});

describe("S3 store (multipart uploads), under the first runtime", async () => {
  let s3: TestS3 | undefined;
  const runtime = (await sandboxRuntimes())[0] ?? "runc";
  const pipeline = usePipeline({ SANDBOX_RUNTIME: runtime, WORKSPACE_MAX_MB: String(CAP_MB), SANDBOX_TIMEOUT_SECONDS: "120" }, async () => {
    s3 = await startS3Server();
    return {
      WORKSPACE_STORE: `s3://${s3.bucket}/memory`,
      WORKSPACE_S3_ENDPOINT: s3.endpoint,
      WORKSPACE_S3_FORCE_PATH_STYLE: "true",
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: "true",
    };
  });
  let opened: S3Store | undefined;
  beforeAll(() => {
    // This process reads the store too (what was kept), with the SDK's default chain: here the environment.
    vi.stubEnv("AWS_ACCESS_KEY_ID", S3RVER_CREDENTIALS.accessKeyId);
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", S3RVER_CREDENTIALS.secretAccessKey);
    vi.stubEnv("AWS_EC2_METADATA_DISABLED", "true");
  });
  afterAll(async () => {
    opened?.close();
    await s3?.stop().catch(() => undefined);
    vi.unstubAllEnvs();
  });
  reproduction(pipeline, `${runtime}, S3`, () => {
    opened ??= new S3Store({ bucket: s3!.bucket, prefix: "memory", region: "us-east-1", endpoint: s3!.endpoint, forcePathStyle: true });
    return opened;
  });
});
