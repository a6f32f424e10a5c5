import {
  ApplicationCommandType,
  ContextMenuCommandBuilder,
  LabelBuilder,
  ModalBuilder,
  Routes,
  SlashCommandBuilder,
  TextInputBuilder,
  TextInputStyle,
  type REST,
  type SlashCommandBooleanOption,
} from "discord.js";
import type { RequestKind } from "../../core/chat-request.js";

/** The message context menu command ("Apps → Run code" on a message): runs the message's code. */
export const RUN_CODE_COMMAND = "Run code";
/** The modal /run opens when it is used without `code`, and its paragraph input. */
export const RUN_MODAL_ID = "codebot_run_modal";
export const RUN_MODAL_CODE = "code";
/** Discord caps a text input at 4,000 characters. */
const MODAL_CODE_MAX = 4000;

const zipOption = (description: string) => (option: SlashCommandBooleanOption) => option.setName("zip").setDescription(description).setRequired(false);

/** The application commands: slash commands (chat input) and the "Run code" message command. */
export const COMMANDS = [
  new SlashCommandBuilder()
    .setName("ask")
    .setDescription("Ask codebot a question about your data")
    .addStringOption((option) => option.setName("question").setDescription("What you want to know").setRequired(true))
    .addAttachmentOption((option) => option.setName("file").setDescription("A file to analyse").setRequired(false)),
  new SlashCommandBuilder()
    .setName("run")
    .setDescription("Run Python code as written, in this thread's session (no code: a box for several lines)")
    .addStringOption((option) => option.setName("code").setDescription("The code (leave it out to get a box for several lines)").setRequired(false)),
  new SlashCommandBuilder().setName("reset").setDescription("Start a fresh session for this thread (variables, files, conversation)"),
  new SlashCommandBuilder()
    .setName("files")
    .setDescription("List the files in this thread's session")
    .addBooleanOption(zipOption("Send them all as one zip")),
  new SlashCommandBuilder()
    .setName("export")
    .setDescription("This thread as a Jupyter notebook")
    .addBooleanOption(zipOption("Add the session's files: all as one zip")),
  new SlashCommandBuilder()
    .setName("schedule")
    .setDescription("Run a request in this thread again and again (as you: your access, budget, data sources)")
    .addStringOption((option) => option.setName("when").setDescription("every monday at 09:00, every day at 7am, every 30 minutes, or cron: 0 9 * * 1").setRequired(true).setMaxLength(200))
    .addStringOption((option) => option.setName("request").setDescription("The question, or Python code in a ```python block").setRequired(true)),
  new SlashCommandBuilder().setName("schedules").setDescription("This thread's schedules (in a DM: all of yours)"),
  new SlashCommandBuilder()
    .setName("unschedule")
    .setDescription("Stop a schedule (its id, or all: this thread's)")
    .addStringOption((option) => option.setName("id").setDescription("The schedule's id (/schedules lists them), or all").setRequired(true).setMaxLength(20)),
  new ContextMenuCommandBuilder().setName(RUN_CODE_COMMAND).setType(ApplicationCommandType.Message),
];

export const COMMAND_KINDS: Record<string, RequestKind> = { ask: "message", run: "run", reset: "reset", files: "files", export: "export", schedule: "schedule", schedules: "schedules", unschedule: "unschedule" };

/** The box /run shows for code of several lines (a slash command option is one line). */
export function runModal(): ModalBuilder {
  const input = new TextInputBuilder().setCustomId(RUN_MODAL_CODE).setStyle(TextInputStyle.Paragraph).setRequired(true).setMaxLength(MODAL_CODE_MAX).setPlaceholder("import pandas as pd\n…");
  return new ModalBuilder()
    .setCustomId(RUN_MODAL_ID)
    .setTitle("Run Python code")
    .addLabelComponents(new LabelBuilder().setLabel("Code, run as written in this thread's session").setTextInputComponent(input));
}

/** `codebot discord register`: puts the commands on the application (globally), replacing what was there. */
export async function registerCommands(rest: REST): Promise<{ applicationId: string; count: number; slash: number }> {
  const application = (await rest.get(Routes.currentApplication())) as { id: string };
  const body = COMMANDS.map((command) => command.toJSON());
  const registered = (await rest.put(Routes.applicationCommands(application.id), { body })) as Array<{ type?: number }>;
  return { applicationId: application.id, count: registered.length, slash: registered.filter((command) => (command.type ?? 1) === ApplicationCommandType.ChatInput).length };
}
