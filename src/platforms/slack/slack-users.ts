import type { WebClient } from "@slack/web-api";

const TTL_MS = 60 * 60 * 1000;

/** Display names by user id (users:read), cached for an hour; the id itself when the lookup fails. */
export class SlackUserNames {
  private readonly cache = new Map<string, { name: string; at: number }>();

  constructor(private readonly client: WebClient) {}

  async name(userId: string): Promise<string> {
    const cached = this.cache.get(userId);
    if (cached && Date.now() - cached.at < TTL_MS) return cached.name;
    try {
      const { user } = await this.client.users.info({ user: userId });
      const name = user?.profile?.display_name || user?.real_name || user?.name || userId;
      this.cache.set(userId, { name, at: Date.now() });
      return name;
    } catch {
      return userId;
    }
  }
}
