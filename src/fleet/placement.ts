import type { HostState } from "./host-states.js";

export interface HostLoad {
  name: string;
  weight: number;
  maxSessions: number;
  /** Sessions holding a slot there now. */
  load: number;
  state?: HostState;
}

/**
 * Where a new session goes: among the hosts neither down nor drained, the one with the most room
 * (free share of its cap, times its weight); one that is full still takes it if every host is (its
 * manager then makes room or says no). Undefined when no host may take new sessions.
 */
export function chooseHost(hosts: HostLoad[], random: () => number = Math.random): string | undefined {
  const open = hosts.filter((host) => !host.state?.down && !host.state?.drained && Number.isFinite(host.load));
  const scored = open.map((host) => ({ name: host.name, score: (Math.max(0, host.maxSessions - host.load) / Math.max(1, host.maxSessions)) * host.weight }));
  const best = Math.max(...scored.map((host) => host.score));
  // Ties are broken at random, so a burst of new threads (all seeing the same loads) spreads out.
  const tied = scored.filter((host) => host.score >= best - 1e-9);
  return tied[Math.floor(random() * tied.length)]?.name;
}
