/** Sessions with a saved workspace and no running container anywhere: asleep. */
export async function countSleeping(workspaces: { list(): Promise<Array<{ sessionId: string }>> }, running: () => Promise<Array<{ sessionId: string }>>): Promise<number> {
  const [saved, live] = await Promise.all([workspaces.list(), running()]);
  const liveIds = new Set(live.map((session) => session.sessionId));
  return saved.filter((workspace) => !liveIds.has(workspace.sessionId)).length;
}
