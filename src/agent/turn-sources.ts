import { threadKey, type ChatRequest } from "../core/chat-request.js";
import type { ExecutionResult } from "../core/execution-result.js";
import type { SourceCallRecord } from "../core/source-call.js";
import { channelOf } from "../datasources/channel-match.js";
import type { DataSources } from "../datasources/data-sources.js";
import { sessionCallHandler } from "../datasources/session-call-handler.js";
import type { SessionCallHandler } from "../sandbox/session-calls.js";
import { sessionOwner } from "./turn-attachments.js";

/** The data sources one execution of a turn may call (its channel's), and the calls it made. */
export function turnSourceCalls(sources: DataSources | undefined, request: ChatRequest): { onCall?: SessionCallHandler; calls: SourceCallRecord[] } {
  const calls: SourceCallRecord[] = [];
  if (!sources) return { calls };
  const caller = { channel: channelOf(request.conversation), user: sessionOwner(request), thread: threadKey(request.conversation), requestId: request.eventId };
  return { onCall: sessionCallHandler(sources, caller, (call) => calls.push(call)), calls };
}

/** The result with the calls its code made, for the step's line, the answer and the export. */
export function withCalls(result: ExecutionResult, calls: SourceCallRecord[]): ExecutionResult {
  return calls.length ? { ...result, calls: [...calls] } : result;
}

/** The system prompt's part on the channel's sources ("" without any). */
export function sourcesPromptFor(sources: DataSources | undefined, request: ChatRequest): Promise<string> {
  return sources ? sources.describeFor(channelOf(request.conversation)) : Promise.resolve("");
}
