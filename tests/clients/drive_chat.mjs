// One chat turn through the stock AI SDK chat engine (AbstractChat with DefaultChatTransport) of
// one installed `ai` major version, against a running Chimera. Prints one JSON line on stdout:
// {ai, status, error, messages}: what the engine holds once the turn is over, parts and all.
//
//   CHIMERA_TOKEN=<bearer> node drive_chat.mjs --ai ai6 --base http://127.0.0.1:8000 \
//       --message "What is streaming?" [--model groq-llama-70b] [--timeout-s 60]
//
// `--ai` names one of the npm aliases in package.json (ai5, ai6, ai7). The token comes from the
// environment so it stays out of process listings. Exit status: 0 when a result was printed
// (whatever the engine's status), 2 for bad arguments, 3 when the turn did not settle in time.

import { memoryChat } from "./memory_chat.mjs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";

const ALIASES = ["ai5", "ai6", "ai7"];

function usage(problem) {
  process.stderr.write(`drive_chat: ${problem}\n`);
  process.exit(2);
}

const { values: args } = parseArgs({
  options: {
    ai: { type: "string" },
    base: { type: "string" },
    message: { type: "string" },
    model: { type: "string", default: "auto" },
    "timeout-s": { type: "string", default: "60" },
  },
});
if (!ALIASES.includes(args.ai)) usage(`--ai must be one of ${ALIASES.join(", ")}`);
if (!args.base) usage("--base is required, e.g. http://127.0.0.1:8000");
if (!args.message) usage("--message is required");
const token = process.env.CHIMERA_TOKEN;
if (!token) usage("CHIMERA_TOKEN must hold a bearer token");
const timeoutMs = Number(args["timeout-s"]) * 1000;

const { AbstractChat, DefaultChatTransport } = await import(args.ai);
const require = createRequire(import.meta.url);
const { version } = JSON.parse(await readFile(require.resolve(`${args.ai}/package.json`), "utf8"));

const Chat = memoryChat(AbstractChat);

const chat = new Chat({
  transport: new DefaultChatTransport({
    api: `${args.base.replace(/\/$/, "")}/api/chat`,
    headers: { Authorization: `Bearer ${token}` },
    // The transport's own body ({id, messages, trigger, messageId}), with the model chosen as an
    // extra field: no request glue, and the response is read by the stock engine as it is.
    body: { model: args.model },
  }),
});

const settled = () => chat.status === "ready" || chat.status === "error";
const deadline = Date.now() + timeoutMs;
try {
  await chat.sendMessage({ text: args.message });
} catch (error) {
  // The engine reports failures through its status; a throw here is worth showing as well.
  process.stderr.write(`drive_chat: sendMessage threw: ${error?.stack ?? error}\n`);
}
while (!settled() && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 20));
}

const error = chat.error ? `${chat.error.name}: ${chat.error.message}` : null;
process.stdout.write(`${JSON.stringify({ ai: version, status: chat.status, error, messages: chat.messages })}\n`);
process.exit(settled() ? 0 : 3);
