import { randomUUID } from "node:crypto";
import type { Logger } from "../log.js";
import { RunnerConnection } from "./runner-connection.js";
import { claimAnswerSchema } from "./runner-protocol.js";
import type { SandboxHandle } from "./sandbox-handle.js";
import type { PoolClaim, WarmPool } from "./sandbox-provider.js";

const CLAIM_TIMEOUT_MS = 120_000;

/** What making a granted member the session's came to: "lost", it is gone or no longer a member (the next is tried); "taken", another sandbox holds the session already. */
export type Adoption = "adopted" | "lost" | "taken";

/**
 * The warm pool every backend shares: members live in the backend (containers, pods), not in this
 * process, so any codebot process can claim one. A member is granted to exactly one claimant by its
 * supervisor ("claim": the backend's own rename or relabel alone is not atomic), then made the
 * session's by the backend (`adopt`). One refill at a time tops the pool up; held (its engine or
 * namespace drained), it is emptied and stays empty, a member removed only once its supervisor granted
 * it to the removal, so one a session of any process claimed meanwhile is left to it.
 */
export abstract class GrantedWarmPool<Member extends SandboxHandle> implements WarmPool {
  private refilling: Promise<void> | undefined;
  /** Held empty (its engine is drained): nothing is started, and nothing is claimed. */
  protected held = false;

  constructor(
    protected readonly size: number,
    protected readonly log: Logger,
    protected readonly maxFrameBytes: number,
  ) {}

  /** The running members of the current image and settings, oldest (most likely warm) first. */
  abstract members(): Promise<Member[]>;

  /** Makes a member its supervisor granted the session's (it is named or labelled after it). */
  protected abstract adopt(member: Member, sessionName: string): Promise<Adoption>;

  /** Removes a member now. */
  protected abstract remove(member: Member): Promise<void>;

  /** Starts one member (and waits until it runs, where the backend can't start it running). */
  protected abstract startMember(): Promise<void>;

  /** How many members the pool has towards its size (by default the running ones; a backend may count those still starting). */
  protected async counted(): Promise<number> {
    return (await this.members()).length;
  }

  async claim(sessionName: string): Promise<PoolClaim> {
    if (this.size === 0 || this.held) return { kind: "empty" };
    // Each claim is its own claimant: two processes opening one session at once can't both be granted a member.
    const claimant = `${sessionName}#${randomUUID()}`;
    for (const member of await this.members()) {
      const connection = await this.grant(member, claimant);
      if (!connection) continue;
      const adoption = await this.adopt(member, sessionName).catch((error: unknown) => {
        connection.close();
        throw error;
      });
      if (adoption === "lost") {
        connection.close();
        continue;
      }
      if (adoption === "taken") {
        // The session was started elsewhere meanwhile; this member is claimed for it and of no further use.
        connection.close();
        await this.remove(member).catch(() => undefined);
        return { kind: "taken" };
      }
      this.log.debug({ sandbox: member.id.slice(0, 12), session: sessionName }, "claimed a warm sandbox");
      return { kind: "claimed", sandbox: member, connection };
    }
    return { kind: "empty" };
  }

  /** Starts members until the pool has its size; concurrent calls share one refill. */
  refill(): Promise<void> {
    this.refilling ??= this.topUp().finally(() => {
      this.refilling = undefined;
    });
    return this.refilling;
  }

  /** Held: the pool is emptied (a refill in flight finishes first) and stays empty until released; released: the next refill fills it again. */
  async hold(held: boolean): Promise<void> {
    this.held = held;
    if (!held) return;
    await this.refilling?.catch(() => undefined);
    const removed = await Promise.all(
      (await this.members()).map(async (member) => {
        const connection = await this.grant(member, `drain#${randomUUID()}`);
        connection?.close();
        return connection ? this.remove(member).then(() => 1, () => 0) : 0;
      }),
    );
    const count = removed.reduce((a: number, b: number) => a + b, 0);
    if (count) this.log.info({ removed: count }, "emptied the warm pool of a drained engine");
  }

  /** Asks a member's supervisor to grant it to claimant (it grants a member once, ever); the connection when it did. */
  private async grant(member: Member, claimant: string): Promise<RunnerConnection | undefined> {
    const connection = await RunnerConnection.attach(member, this.log, this.maxFrameBytes).catch(() => undefined);
    if (!connection) return undefined;
    const answer = await connection.request({ op: "claim", session: claimant }, claimAnswerSchema, CLAIM_TIMEOUT_MS).catch(() => undefined);
    if (answer?.granted) return connection;
    connection.close();
    return undefined;
  }

  private async topUp(): Promise<void> {
    const missing = this.held ? 0 : this.size - (await this.counted());
    for (let i = 0; i < missing && !this.held; i++) {
      try {
        await this.startMember();
      } catch (error) {
        this.log.warn({ err: error }, "could not start a warm sandbox");
        return;
      }
    }
  }
}
