import { afterAll, describe, expect, test } from "vitest";
import { threadKey } from "../../src/core/chat-request.js";
import { answerText, finalReply, localRequest } from "../support/local-turns.js";
import { usePipeline } from "../support/pipeline-fixture.js";
import { runCli } from "../support/run-cli.js";
import { S3RVER_CREDENTIALS, startS3Server, type TestS3 } from "../support/s3-server.js";

let s3: TestS3;

/** Workers keep their workspaces in an S3-compatible store: a local server speaking the S3 API. */
const pipeline = usePipeline({}, async () => {
  s3 = await startS3Server();
  return {
    WORKSPACE_STORE: `s3://${s3.bucket}/codebot-test`,
    WORKSPACE_S3_ENDPOINT: s3.endpoint,
    WORKSPACE_S3_FORCE_PATH_STYLE: "true",
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: "true",
  };
});

afterAll(async () => {
  await s3?.stop().catch(() => undefined);
});

const fenced = (code: string) => `\`\`\`python\n${code}\n\`\`\``;

async function turn(thread: string, code: string): Promise<string> {
  const request = localRequest(thread, fenced(code));
  await pipeline.queue.enqueue(request);
  return answerText((await finalReply(pipeline, request.eventId)).replies);
}

const sessionOf = (thread: string) => threadKey(localRequest(thread, "").conversation);

describe("durable workspaces in an S3 store", () => {
  test("a session sleeps to S3 and resumes with its files and variables", async () => {
    expect(await turn("s3-thread", "import pandas as pd\nframe = pd.DataFrame({'a': [1, 2, 3]})\nframe.to_csv('/mnt/data/a.csv')\nprint('saved')")).toContain("saved");
    const slept = await runCli(["sessions", "hibernate", sessionOf("s3-thread")], { env: pipeline.env });
    expect(slept.stdout, slept.stderr).toContain("is asleep");
    const back = await turn("s3-thread", "print(int(frame.a.sum()), open('/mnt/data/a.csv').read().count('\\n'))");
    expect(back).toContain("6 4");
  });

  test("a store that goes down: the running session keeps working, and the thread is told saving failed", async () => {
    expect(await turn("s3-down", "kept = 'still here'\nprint('before')")).toContain("before");
    await s3.stop();
    const during = await turn("s3-down", "open('/mnt/data/new.txt', 'w').write('x')\nprint(kept)");
    expect(during).toContain("still here");
    expect(during).toMatch(/Saving this thread's files to its workspace failed/);
    expect(await turn("s3-down", "print(kept, open('/mnt/data/new.txt').read())")).toContain("still here x");
  });
});
