import type { AttachmentSource } from "../../core/attachment-source.js";
import { TurnFailure } from "../../core/turn-failure.js";
import type { BlobStore } from "./blob-store.js";

/** Attachments of the local chat: bytes it put in Redis as blobs. */
export function localAttachments(blobs: BlobStore): AttachmentSource {
  return {
    async fetch(_request, attachment, maxBytes) {
      const data = await blobs.get(attachment.url);
      if (!data) throw new TurnFailure("FILE_UNAVAILABLE", `"${attachment.name}" is no longer available (uploads are kept for an hour). Please attach it again.`);
      if (data.length > maxBytes) throw new TurnFailure("FILE_TOO_LARGE", `"${attachment.name}" is over the ${Math.round(maxBytes / 1048576)} MB limit for one file.`);
      return data;
    },
  };
}
