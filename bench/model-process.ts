import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ModelServerMessage } from "./model-server.js";

/** The benchmark's model as its turns see it: where to reach it, and how many requests it served. */
export interface BenchModel {
  baseURL: string;
  requestCount(): Promise<number>;
  close(): Promise<void>;
}

/** Starts bench/model-server.js in a process of its own and waits until it listens. */
export async function startModelProcess(): Promise<BenchModel> {
  const child: ChildProcess = fork(fileURLToPath(new URL("./model-server.js", import.meta.url)), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const next = <T extends ModelServerMessage["type"]>(type: T) =>
    new Promise<Extract<ModelServerMessage, { type: T }>>((resolve, reject) => {
      const onMessage = (message: ModelServerMessage) => {
        if (message.type !== type) return;
        child.off("exit", onExit);
        child.off("message", onMessage);
        resolve(message as Extract<ModelServerMessage, { type: T }>);
      };
      const onExit = (code: number | null) => reject(new Error(`the benchmark's model process exited (${code})`));
      child.on("message", onMessage);
      child.once("exit", onExit);
    });
  const { baseURL } = await next("ready");
  return {
    baseURL,
    requestCount: async () => {
      const answer = next("count");
      child.send({ type: "count" });
      return (await answer).requests;
    },
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.disconnect();
      await exited;
    },
  };
}
