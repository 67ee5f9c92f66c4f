// Resume and regenerate through the stock AI SDK 7 chat engine (AbstractChat with
// DefaultChatTransport, no request glue: the transport's own body and reconnect URL), against a
// running Chimera. The scenario, one JSON line on stdout per step:
//
//   {"step":"send", ...}      the engine sends a message; once it shows the answer's first words
//                             (--reconnect-after-words, 1 by default) a second, independent
//                             transport calls reconnectToStream({chatId}) and reads that stream to
//                             its end; this line is what the engine holds when it settles
//   {"step":"resume", ...}    what the second consumer read: every chunk's type, the text of the
//                             message the chunks build (readUIMessageStream), and how much text the
//                             engine had shown when the reconnect was made
//   {"step":"after-end", ...} reconnectToStream once the answer has ended: null (a 204) or a stream
//   {"step":"regenerate", ...} the engine's regenerate(), and what it holds when it settles
//
//   CHIMERA_TOKEN=<bearer> node resume_chat.mjs --base http://127.0.0.1:8000 \
//       --message "What is streaming?" [--reconnect-after-words 1] [--timeout-s 60]
//
// The token comes from the environment so it stays out of process listings. Exit status: 0 when
// every step printed its line (whatever the engine did), 2 for bad arguments, 3 when a step did not
// settle in time.

import { memoryChat, textOf } from "./memory_chat.mjs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";

import { AbstractChat, DefaultChatTransport, readUIMessageStream } from "ai7";

function usage(problem) {
  process.stderr.write(`resume_chat: ${problem}\n`);
  process.exit(2);
}

const { values: args } = parseArgs({
  options: {
    base: { type: "string" },
    message: { type: "string" },
    "reconnect-after-words": { type: "string", default: "1" },
    "timeout-s": { type: "string", default: "60" },
  },
});
if (!args.base) usage("--base is required, e.g. http://127.0.0.1:8000");
if (!args.message) usage("--message is required");
const token = process.env.CHIMERA_TOKEN;
if (!token) usage("CHIMERA_TOKEN must hold a bearer token");
const timeoutMs = Number(args["timeout-s"]) * 1000;
const reconnectAfterWords = Number(args["reconnect-after-words"]);
if (!(reconnectAfterWords >= 1)) usage("--reconnect-after-words must be a number from 1");

const require = createRequire(import.meta.url);
const { version } = JSON.parse(await readFile(require.resolve("ai7/package.json"), "utf8"));

const Chat = memoryChat(AbstractChat);

// The stock transport as an app configures it: where the API is and who is asking, nothing more.
function transport() {
  return new DefaultChatTransport({
    api: `${args.base.replace(/\/$/, "")}/api/chat`,
    headers: { Authorization: `Bearer ${token}` },
  });
}

function emit(line) {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function errorText(error) {
  return error ? `${error.name}: ${error.message}` : null;
}

async function until(condition, what) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      process.stderr.write(`resume_chat: ${what} did not happen within ${timeoutMs / 1000} s\n`);
      process.exit(3);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function engineState(chat) {
  return { ai: version, chatId: chat.id, status: chat.status, error: errorText(chat.error), messages: chat.messages };
}

// A second reader of the answer, independent of the engine: its own transport, its own connection.
// Records each chunk's type on the way, and builds the message from the chunks as the SDK does.
async function readResumed(chatId) {
  const stream = await transport().reconnectToStream({ chatId });
  if (stream === null) return { stream: false, chunkTypes: [], text: null, message: null };
  const chunkTypes = [];
  const recorded = stream.pipeThrough(
    new TransformStream({
      transform(chunk, controller) {
        chunkTypes.push(chunk.type);
        controller.enqueue(chunk);
      },
    }),
  );
  let message = null;
  const errors = [];
  for await (const state of readUIMessageStream({ stream: recorded, onError: (error) => errors.push(String(error)) })) {
    message = state;
  }
  return { stream: true, chunkTypes, text: textOf(message), message, errors };
}

const chat = new Chat({ transport: transport() });
const settled = () => chat.status === "ready" || chat.status === "error";
const shownText = () => {
  const last = chat.messages.at(-1);
  return last?.role === "assistant" ? textOf(last) : "";
};

// (a) Send; once the engine shows the first words, reconnect from a second consumer.
let sendReturned = false;
const sent = chat
  .sendMessage({ text: args.message })
  .catch((error) => {
    process.stderr.write(`resume_chat: sendMessage threw: ${error?.stack ?? error}\n`);
  })
  .finally(() => {
    sendReturned = true;
  });
const wordsShown = () => shownText().split(/\s+/).filter(Boolean).length;
await until(() => wordsShown() >= reconnectAfterWords || sendReturned, "the first words of the answer");
const shownAtReconnect = shownText();
const statusAtReconnect = chat.status;
const resumed = readResumed(chat.id).catch((error) => ({ stream: null, thrown: errorText(error) }));
await sent;
await until(settled, "the engine settling after sendMessage");
emit({ step: "send", ...engineState(chat) });
emit({ step: "resume", shownAtReconnect, statusAtReconnect, ...(await resumed) });

// Once the answer has ended there is nothing to reconnect to.
try {
  const after = await transport().reconnectToStream({ chatId: chat.id });
  emit({ step: "after-end", result: after === null ? null : "stream" });
  if (after !== null) await after.cancel();
} catch (error) {
  emit({ step: "after-end", result: "thrown", thrown: errorText(error) });
}

// (b) Regenerate the answer through the engine.
try {
  await chat.regenerate();
} catch (error) {
  process.stderr.write(`resume_chat: regenerate threw: ${error?.stack ?? error}\n`);
}
await until(settled, "the engine settling after regenerate");
emit({ step: "regenerate", ...engineState(chat) });
process.exit(0);
