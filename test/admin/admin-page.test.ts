import { createServer, type Server } from "node:http";
import Docker from "dockerode";
import type { Browser, Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { UsageLedger } from "../../src/agent/usage-ledger.js";
import { FailureLog } from "../../src/ops/failure-log.js";
import { LABEL_NAMESPACE } from "../../src/sandbox/docker/container-spec.js";
import { sessionNaming } from "../../src/sandbox/session-naming.js";
import { threadKey } from "../../src/core/chat-request.js";
import { startBot } from "../support/bot-process.js";
import { runCli } from "../support/run-cli.js";
import { launchChromium, testOutputPath } from "../support/browser.js";
import { answerText, finalReply, localRequest } from "../support/local-turns.js";
import { freePort } from "../support/redis-server.js";
import { useSlackBot } from "../support/slack-bot-fixture.js";
import { eventually } from "../ops/prometheus-text.js";
import { chargePastDays } from "./past-usage.js";
import { createScheduleStore } from "../../src/schedules/create-schedules.js";
import { loadConfig } from "../../src/config.js";

const USER = "admin";
const PASSWORD = "correct-horse-battery-staple";
const TOKEN = "test-admin-token-0123456789abcdef";
const adminPort = await freePort();
const base = `http://127.0.0.1:${adminPort}`;
const basic = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;

// A real bot (Slack stand-in) serving the admin page, a real worker with real sandboxes; no BUDGET_*
// limit set: usage is counted per user and channel, day and month, all the same.
const fixture = useSlackBot({
  ADMIN_PORT: String(adminPort),
  ADMIN_PASSWORD: PASSWORD,
  ADMIN_TOKEN: TOKEN,
});

// A thread whose name is markup: its session id reaches the page as text, never as HTML.
const THREAD = "adm-<script>window.pwned=1</script>";
const REQUEST_ID = "local:req-admin-7781";
let sessionId: string;
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

async function adminPage(): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1360, height: 900 });
  await page.authenticate({ username: USER, password: PASSWORD });
  return page;
}

const post = (body: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/admin/sessions/kill`, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body });

/** The overview's table row of a session, if it lists it. */
const sessionRow = (page: Page, id: string) => page.$(`xpath///section[@id="sessions"]//tr[td[contains(@class, "id") and text()=${JSON.stringify(id)}]]`);

/** The session's container on the engine, if it runs. */
async function container(id: string): Promise<Docker.ContainerInfo | undefined> {
  const namespace = fixture.pipeline.env.SANDBOX_NAMESPACE!;
  const name = `/${sessionNaming(namespace).sessionName(id)}`;
  const containers = await new Docker().listContainers({ all: true, filters: { label: [`${LABEL_NAMESPACE}=${namespace}`] } });
  return containers.find((info) => info.Names.includes(name));
}

describe("the admin page", () => {
  test("without credentials (or with wrong ones) the page, the board and its API answer 401; a bearer token gets in", async () => {
    for (const path of ["/admin", "/admin/queue", "/admin/queue/api/queues", "/admin/admin.css", "/"]) {
      const response = await fetch(`${base}${path}`, { redirect: "manual" });
      expect(response.status, path).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Basic realm="codebot admin"/);
      expect(await response.text()).not.toContain("codebot admin</strong>");
    }
    const wrong = `Basic ${Buffer.from(`${USER}:not-the-password`).toString("base64")}`;
    expect((await fetch(`${base}/admin`, { headers: { authorization: wrong } })).status).toBe(401);
    expect((await fetch(`${base}/admin`, { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    expect((await post("sessionId=x")).status).toBe(401);
    const byToken = await fetch(`${base}/admin/queue/api/queues`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(byToken.status).toBe(200);
    expect(JSON.stringify(await byToken.json())).toContain('"name":"turns"');
    expect(fixture.bot.logs()).toContain("admin page listening");
    expect(fixture.bot.logs()).not.toContain(PASSWORD);
  });

  test("after a real turn the page shows the live session, usage by user and channel (no BUDGET_* set) and over time, and a failure with its request id; markup stays text", async () => {
    const pipeline = fixture.pipeline;
    pipeline.llm.script({ toolCalls: [{ name: "python", arguments: { code: "open('/mnt/data/notes.txt', 'w').write('hello')\nprint(6 * 7)" } }] }, { content: "It is 42." });
    const request = localRequest(THREAD, "what is six times seven?");
    sessionId = threadKey(request.conversation);
    await pipeline.queue.enqueue(request);
    expect(answerText((await finalReply(pipeline, request.eventId)).replies)).toContain("It is 42.");
    expect(await container(sessionId)).toBeDefined();
    await new FailureLog(pipeline.redis, pipeline.keys).record({
      at: Date.now(),
      requestId: REQUEST_ID,
      platform: "slack",
      thread: "slack:T1:C1:1700000000.0001",
      user: "slack:U0<img src=x onerror=window.pwned=2>",
      code: "MODEL_UNAVAILABLE",
      message: "The model endpoint failed: <script>window.pwned=3</script>",
      attempt: 3,
    });

    const page = await adminPage();
    // Workers publish their sessions every 10 s: reload until this one is listed.
    await eventually(async () => {
      await page.goto(`${base}/admin`, { waitUntil: "load" });
      return (await page.$eval("#sessions", (section) => section.textContent ?? "")).includes(sessionId);
    }, 30_000);
    const sessions = await page.$eval("#sessions", (section) => section.textContent ?? "");
    expect(sessions).toMatch(/1 running/);
    expect(sessions).toContain("running");
    const usage = await page.$eval("#usage", (section) => section.textContent ?? "");
    expect(usage).toContain("No BUDGET_* limit is set: usage is counted, nothing is refused.");
    expect(usage).toContain("local:U1"); // the user, today and this month, counted with no limit set
    expect(usage).toContain("local:-:cli"); // the channel
    expect(usage).not.toContain("Nothing counted this month.");
    expect(usage).toContain("All time, per user");

    // Usage over time: today's row holds the turn's tokens (as the all-time ledger has them) and its execution.
    const ledger = (await new UsageLedger(pipeline.redis, pipeline.keys).all("user")).find((row) => row.id === "local:U1")!;
    const todayRow = await page.$eval("#usage-history tr.today", (row) => [...row.querySelectorAll("td")].map((cell) => cell.textContent ?? ""));
    expect(todayRow[0]).toMatch(/today$/);
    expect(todayRow[1]).toBe((ledger.prompt_tokens + ledger.completion_tokens).toLocaleString("en-US"));
    expect(todayRow[3]).toMatch(/^[1-9]|^0\.(0[1-9]|[1-9])/); // seconds of execution, more than none
    expect(todayRow.slice(5)).toEqual(["1", "1"]); // one user, one channel
    expect(await page.$$eval("#usage-history tbody", (bodies) => bodies[0]?.querySelectorAll("tr").length)).toBe(14);
    const history = await page.$eval("#usage-history", (section) => section.textContent ?? "");
    expect(history).toContain("local:U1");
    expect(history).toContain("local:-:cli");

    // With earlier days charged too, the rows fill in; ids with markup are text there as well.
    await chargePastDays(pipeline);
    await page.goto(`${base}/admin`, { waitUntil: "load" });
    const filled = await page.$$eval("#usage-history > table tr", (rows) => rows.filter((row) => row.querySelector(".bar.tokens > span:not(.w0)")).length);
    expect(filled).toBeGreaterThanOrEqual(9);
    const withPast = await page.$eval("#usage-history", (section) => section.textContent ?? "");
    expect(withPast).toContain("slack:ops-lead");
    expect(withPast).toContain("slack:T1:C-data");
    expect(withPast).toContain("slack:U<img src=x onerror=window.pwned=4>");
    expect(withPast).toContain("slack:T1:C<b>x</b>");
    const failures = await page.$eval("#failures", (section) => section.textContent ?? "");
    expect(failures).toContain(REQUEST_ID);
    expect(failures).toContain("MODEL_UNAVAILABLE");
    expect(failures).toContain("<script>window.pwned=3</script>");
    expect(failures).toContain("slack:U0<img src=x onerror=window.pwned=2>");
    // Markup in ids and messages is shown, never run nor made into elements.
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.$$eval("main script, main img", (found) => found.length)).toBe(0);
    const source = await (await fetch(`${base}/admin`, { headers: { authorization: basic } })).text();
    expect(source).not.toContain("<script");
    expect(source).not.toContain("style=");
    expect(source).toContain("adm-&lt;script&gt;window.pwned=1&lt;/script&gt;");

    const screenshot = await testOutputPath("admin-page.png");
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`admin page screenshot: ${screenshot}`);

    await page.goto(`${base}/admin/queue`, { waitUntil: "networkidle0" });
    await page.waitForFunction(() => document.body.innerText.includes("turns"), { timeout: 20_000 });
    const board = await testOutputPath("admin-queue.png");
    await page.screenshot({ path: board });
    console.log(`queue board screenshot: ${board}`);
    await page.close();
  });

  test("with BUDGET_* limits set, the same counters are shown against them", async () => {
    const port = await freePort();
    const limits = { BUDGET_USER_TOKENS_PER_DAY: "1000000", BUDGET_CHANNEL_EXEC_SECONDS_PER_MONTH: "3600" };
    const bot = await startBot({ ...fixture.pipeline.env, ...limits, PORT: String(await freePort()), ADMIN_PORT: String(port) });
    try {
      const source = await (await fetch(`http://127.0.0.1:${port}/admin`, { headers: { authorization: basic } })).text();
      const usage = source.slice(source.indexOf('<section id="usage">'), source.indexOf('<section id="usage-history">'));
      expect(usage).toMatch(/local:U1<\/td>\s*<td class="num"><span class="">[\d,]+<\/span> <small>of 1,000,000<\/small>/); // the user against its daily limit
      expect(usage).toContain("of 3,600 s"); // the channel against its monthly execution limit
      expect(usage).not.toContain("No BUDGET_* limit is set");
    } finally {
      await bot.kill();
    }
  });

  test("a POST without the page's token, or from another origin, is refused; with a bearer token a script may ask for a kill", async () => {
    const page = await adminPage();
    await page.goto(`${base}/admin`, { waitUntil: "load" });
    const token = await page.$eval('input[name="csrf"]', (input) => (input as HTMLInputElement).value);
    await page.close();
    const form = (csrf?: string) => new URLSearchParams({ sessionId: "no-such-session", ...(csrf ? { csrf } : {}) }).toString();
    // No token, a wrong one: refused even from the page's own origin.
    expect((await post(form(), { authorization: basic, "sec-fetch-site": "same-origin" })).status).toBe(403);
    expect((await post(form("forged"), { authorization: basic, origin: base })).status).toBe(403);
    // The right token from elsewhere (or saying nothing of where it comes from): refused.
    expect((await post(form(token), { authorization: basic, "sec-fetch-site": "cross-site" })).status).toBe(403);
    expect((await post(form(token), { authorization: basic, origin: "http://evil.example" })).status).toBe(403);
    expect((await post(form(token), { authorization: basic })).status).toBe(403);
    // The page's own form: accepted (a kill of nothing).
    expect((await post(form(token), { authorization: basic, origin: base })).status).toBe(303);
    // A script with the token: no CSRF defence needed (browsers never add that header by themselves).
    const scripted = await post(form(), { authorization: `Bearer ${TOKEN}` });
    expect(scripted.status).toBe(202);
    expect(await scripted.json()).toEqual({ sessionId: "no-such-session", heard: 1 });

    // A real browser on another site submitting the page's form, token and all, with the admin's credentials at hand.
    const attackerPort = await freePort();
    const attacker: Server = createServer((_req, res) =>
      res.writeHead(200, { "content-type": "text/html" }).end(`<form method="post" action="${base}/admin/sessions/kill"><input name="csrf" value="${token}"><input name="sessionId" value="no-such-session"></form><script>document.forms[0].submit()</script>`),
    );
    await new Promise<void>((resolve) => attacker.listen(attackerPort, "127.0.0.1", resolve));
    try {
      const victim = await adminPage();
      await victim.goto(`${base}/admin`, { waitUntil: "load" }); // signed in
      const answered = victim.waitForResponse((response) => response.url() === `${base}/admin/sessions/kill`);
      await victim.goto(`http://localhost:${attackerPort}/`);
      const refused = await answered;
      expect(refused.status()).toBe(403);
      await victim.close();
    } finally {
      attacker.closeAllConnections();
      await new Promise((resolve) => attacker.close(resolve));
    }
  });

  test("the kill button, clicked in the browser, ends the live session: its container is gone and it leaves the page", async () => {
    const page = await adminPage();
    await page.goto(`${base}/admin`, { waitUntil: "load" });
    const row = await sessionRow(page, sessionId);
    expect(row).toBeTruthy();
    await (await row!.$("details summary"))!.click();
    await Promise.all([page.waitForNavigation({ waitUntil: "load" }), (await row!.$("button[type=submit]"))!.click()]);
    expect(await page.$eval(".flash", (flash) => flash.textContent ?? "")).toContain(`Kill requested for session ${sessionId}`);
    await eventually(async () => (await container(sessionId)) === undefined, 20_000);
    await eventually(async () => {
      await page.goto(`${base}/admin`, { waitUntil: "load" });
      return !(await page.$eval("#sessions", (section) => section.textContent ?? "")).includes(sessionId);
    }, 20_000);
    expect(fixture.pipeline.worker.logs()).toContain("session ended from the admin page");
    await page.close();
  });

  test("a sleeping session shows its saved files and size; its kill button deletes its workspace", async () => {
    const pipeline = fixture.pipeline;
    pipeline.llm.script({ toolCalls: [{ name: "python", arguments: { code: "open('/mnt/data/table.csv', 'w').write('a,b\\n' * 300)\nprint('saved')" } }] }, { content: "Saved it." });
    const request = localRequest("adm-sleepy", "save a table");
    const sleepy = threadKey(request.conversation);
    await pipeline.queue.enqueue(request);
    expect(answerText((await finalReply(pipeline, request.eventId)).replies)).toContain("Saved it.");
    const slept = await runCli(["sessions", "hibernate", sleepy], { env: pipeline.env });
    expect(slept.code, slept.stderr).toBe(0);
    expect(await container(sleepy)).toBeUndefined();

    const page = await adminPage();
    const rowText = async () => (await sessionRow(page, sleepy))?.evaluate((row) => row.textContent ?? "");
    await eventually(async () => {
      await page.goto(`${base}/admin`, { waitUntil: "load" });
      return (await rowText())?.includes("sleeping") ?? false;
    }, 30_000);
    expect(await rowText()).toMatch(/sleeping.*1.*1\.2 KB/s); // one file of 1,200 bytes
    const row = (await sessionRow(page, sleepy))!;
    await (await row.$("details summary"))!.click();
    const button = (await row.$("button[type=submit]"))!;
    expect(await button.evaluate((element) => element.textContent)).toBe("Delete its saved files and variables");
    await Promise.all([page.waitForNavigation({ waitUntil: "load" }), button.click()]);
    expect(await page.$eval(".flash", (flash) => flash.textContent ?? "")).toContain("Kill requested");
    await eventually(async () => {
      const listed = JSON.parse((await runCli(["sessions", "list", "--json"], { env: pipeline.env })).stdout) as Array<{ sessionId: string }>;
      return !listed.some((listedRow) => listedRow.sessionId === sleepy);
    }, 20_000);
    await eventually(async () => {
      await page.goto(`${base}/admin`, { waitUntil: "load" });
      return (await sessionRow(page, sleepy)) === null;
    }, 20_000);
    await page.close();
  });

  test("the page shows Redis' used memory against its maxmemory, warns near it, and says when none is set", async () => {
    const redis = fixture.pipeline.redis;
    const overview = async () => {
      const response = await fetch(`${base}/admin`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(response.status).toBe(200);
      const section = /<section id="redis">([\s\S]*?)<\/section>/.exec(await response.text())?.[1] ?? "";
      return { section, text: section.replace(/<[^>]+>/g, "").replace(/\s+/g, " ").trim() };
    };
    const [, before] = (await redis.config("GET", "maxmemory")) as [string, string];
    const used = () => redis.info("memory").then((info) => Number(/^used_memory:(\d+)/m.exec(info)?.[1]));
    try {
      await redis.config("SET", "maxmemory", String(512 * 1024 * 1024));
      const roomy = await overview();
      const usedMb = Number(/^Redis memory ?([\d.]+) MB used of 512\.0 MB maxmemory \((\d+)%\)/.exec(roomy.text)?.[1]);
      // What the page read is what Redis says it uses (within what a few writes between the two reads add).
      expect(Math.abs(usedMb * 1048576 - (await used()))).toBeLessThan(2 * 1048576);
      expect(roomy.text).toContain("policy noeviction");
      expect(roomy.section).toMatch(/<meter min="0" max="536870912"/);
      expect(roomy.text).not.toContain("near its maxmemory");
      // Just above what it uses now: the page warns (then the limit goes back at once).
      await redis.config("SET", "maxmemory", String(Math.round((await used()) * 1.1)));
      const tight = await overview();
      await redis.config("SET", "maxmemory", String(512 * 1024 * 1024));
      expect(tight.text).toMatch(/\(9\d%\)/);
      expect(tight.text).toContain("Redis is near its maxmemory: past it writes fail, and new turns can't be queued.");
      await redis.config("SET", "maxmemory", "0");
      expect((await overview()).text).toContain("No maxmemory is set: Redis grows until the machine runs out of memory.");
    } finally {
      await redis.config("SET", "maxmemory", before);
    }
  });

  test("the schedules section lists each schedule with its next run and last outcome (markup as text); its remove button, or a bearer POST, removes it", async () => {
    const schedules = createScheduleStore(loadConfig({ ...process.env, ...fixture.pipeline.env }), fixture.pipeline.redis);
    const made = [];
    for (const text of ["<b>weekly</b> signups by channel", "daily report"]) {
      const created = await schedules.create({
        threadKey: `slack:T1:C1:17.${made.length}`,
        conversation: { platform: "slack", workspaceId: "T1", channelId: "C1", threadId: `17.${made.length}` },
        replyContext: {},
        creator: { platform: "slack", id: "U0ADA", name: "<i>Ada</i>" },
        text,
        cron: "30 8 * * 1",
        words: "every Monday at 08:30",
        timeZone: "Europe/Berlin",
      });
      if (!created.ok) throw new Error("not created");
      made.push(created.schedule.id);
    }
    const page = await adminPage();
    await page.goto(`${base}/admin`, { waitUntil: "load" });
    const section = await page.$eval("#schedules", (element) => element.textContent ?? "");
    for (const id of made) expect(section).toContain(id);
    expect(section).toContain("<b>weekly</b> signups by channel");
    expect(section).toContain("every Monday at 08:30 30 8 * * 1");
    expect(section).toMatch(/Mon \d{4}-\d\d-\d\d 08:30 Europe\/Berlin/);
    expect(await page.evaluate(() => document.querySelectorAll("#schedules b, #schedules i").length)).toBe(0);
    const row = await page.$(`xpath///section[@id="schedules"]//tr[td[contains(@class, "id")]/code[text()=${JSON.stringify(made[0])}]]`);
    expect(row).toBeTruthy();
    await (await row!.$("details summary"))!.click();
    await Promise.all([page.waitForNavigation({ waitUntil: "load" }), (await row!.$("button[type=submit]"))!.click()]);
    expect(await page.$eval(".flash", (flash) => flash.textContent ?? "")).toContain(`Schedule ${made[0]} is removed`);
    expect(await page.$eval("#schedules", (element) => element.textContent ?? "")).not.toContain(made[0]);
    expect(await schedules.get(made[0]!)).toBeUndefined();
    expect(await schedules.queue.getJobScheduler(made[0]!)).toBeUndefined();
    await page.close();
    const scripted = await fetch(`${base}/admin/schedules/remove`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Bearer ${TOKEN}` }, body: `scheduleId=${made[1]}` });
    expect(await scripted.json()).toEqual({ scheduleId: made[1], removed: true });
    const again = await fetch(`${base}/admin/schedules/remove`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Bearer ${TOKEN}` }, body: `scheduleId=${made[1]}` });
    expect(again.status).toBe(404);
    await schedules.close();
  });

  test("ADMIN_PORT set without a credential: one clear log line, and the bot runs on without the page", async () => {
    const port = await freePort();
    const bot = await startBot({ ...fixture.pipeline.env, PORT: String(await freePort()), ADMIN_PORT: String(port), ADMIN_PASSWORD: "", ADMIN_TOKEN: "" });
    try {
      expect(bot.logs().match(/the admin page stays off/g)).toHaveLength(1);
      await expect(fetch(`http://127.0.0.1:${port}/admin`)).rejects.toThrow();
    } finally {
      await bot.kill();
    }
  });
});
