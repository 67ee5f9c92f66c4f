// The API client: the access token, fetch with auth and RFC 9457 problems, and the JSON routes.
// Nothing here touches the DOM.

const TOKEN_KEY = "chimera.accessToken";
const DEV_TOKEN_URL = "/api/dev/token";
const RENEW_EARLY_S = 30; // ask for a new dev token this long before the old one expires

/** A response that was refused, carrying the RFC 9457 problem body. */
export class ProblemError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `The server answered ${status}.`);
    this.name = "ProblemError";
    this.status = status;
    this.problem = problem;
    /** @type {{field: string, message: string}[]} */
    this.fieldErrors = Array.isArray(problem.errors) ? problem.errors : [];
  }
}

/** No token is stored and this server hands out none: the person has to paste one. */
export class SignInRequired extends Error {
  /** @param {boolean} rejected a stored token was refused (rather than none being there) */
  constructor(rejected) {
    super(
      rejected
        ? "Your access token was not accepted. Please paste a new one."
        : "Sign-in is required: paste an access token to continue.",
    );
    this.name = "SignInRequired";
    this.rejected = rejected;
  }
}

export async function problemFrom(response) {
  let problem = {};
  try {
    const parsed = await response.json();
    if (parsed && typeof parsed === "object") problem = parsed;
  } catch {
    // Not JSON (a proxy's HTML error page, say): fall back to the status line.
  }
  if (!problem.detail && !problem.title) {
    problem = { ...problem, detail: `The server answered ${response.status} ${response.statusText}`.trim() + "." };
  }
  return new ProblemError(response.status, problem);
}

// --- The access token -------------------------------------------------------------------------

/** A dev token lives only in memory: {token, expiresAt} */
let devToken = null;
/** @type {Promise<string>|null} one dev-token request at a time, however many calls wait on it */
let devTokenRequest = null;

function readStored() {
  try {
    return localStorage.getItem(TOKEN_KEY) || null;
  } catch {
    return null; // storage switched off
  }
}

/** Keep a pasted token for later visits. */
export function storeToken(token) {
  localStorage.setItem(TOKEN_KEY, token);
}

function forgetStored(token) {
  try {
    if (localStorage.getItem(TOKEN_KEY) === token) localStorage.removeItem(TOKEN_KEY);
  } catch {
    // nothing stored, nothing to forget
  }
}

function currentToken() {
  const stored = readStored();
  if (stored) return stored;
  if (devToken && devToken.expiresAt - RENEW_EARLY_S > Date.now() / 1000) return devToken.token;
  return null;
}

/** The bearer header for the token in hand; empty before the first call has fetched one. */
export function authHeaders() {
  const token = currentToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/**
 * The token to send. After a 401, pass the refused token: it is dropped and another is fetched,
 * unless a concurrent call already replaced it.
 */
async function accessToken(refused = null) {
  let rejectedStored = false;
  if (refused) {
    rejectedStored = readStored() === refused;
    forgetStored(refused);
    if (devToken?.token === refused) devToken = null;
  }
  const token = currentToken();
  if (token) return token;
  devTokenRequest ??= fetchDevToken(rejectedStored).finally(() => {
    devTokenRequest = null;
  });
  return devTokenRequest;
}

async function fetchDevToken(rejectedStored) {
  const response = await fetch(DEV_TOKEN_URL, { method: "POST" });
  // Where the route is not mounted, the answer is 404, or 405 from the static files behind it, or
  // 403 from a gateway: any refusal means nobody hands out tokens here.
  if (response.status >= 400 && response.status < 500) throw new SignInRequired(rejectedStored);
  if (!response.ok) throw await problemFrom(response);
  const body = await response.json();
  devToken = { token: body.accessToken, expiresAt: Number(body.expiresAt) || Infinity };
  return devToken.token;
}

// --- Requests ---------------------------------------------------------------------------------

/**
 * fetch with the bearer token; one 401 gets a fresh token and one retry. Resolves with an ok
 * response; rejects with ProblemError, SignInRequired, or TypeError when the network failed.
 *
 * @param {string} url
 * @param {RequestInit} [init] a body must be replayable (a string), as it may be sent twice
 */
export async function apiFetch(url, init = {}) {
  const attempt = async (token) => {
    const headers = { ...init.headers, Authorization: `Bearer ${token}` };
    return fetch(url, { ...init, headers });
  };
  let token = await accessToken();
  let response = await attempt(token);
  if (response.status === 401) {
    await response.body?.cancel();
    token = await accessToken(token);
    response = await attempt(token);
  }
  if (!response.ok) throw await problemFrom(response);
  return response;
}

async function getJSON(url, init = {}) {
  const response = await apiFetch(url, { ...init, headers: { Accept: "application/json", ...init.headers } });
  return response.json();
}

function sendJSON(method, url, body, init = {}) {
  return getJSON(url, {
    ...init,
    method,
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

/**
 * The model choices, in the order to offer them. Needs no sign-in, so no token is fetched or sent.
 * @returns {Promise<{default: string, models: {id: string, label: string, description: string,
 *   available: boolean, status: string, retryInSeconds: number|null}[]}>}
 */
export async function listModels({ signal } = {}) {
  const response = await fetch("/api/models", { headers: { Accept: "application/json" }, signal });
  if (!response.ok) throw await problemFrom(response);
  return response.json();
}

const conversationUrl = (id) => `/api/conversations/${encodeURIComponent(id)}`;

/** @returns {Promise<{items: object[], nextCursor: string|null}>} newest first */
export function listConversations({ cursor = null, limit = 20, signal } = {}) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (cursor) query.set("cursor", cursor);
  return getJSON(`/api/conversations?${query}`, { signal });
}

/** @returns {Promise<{id, title, messages: object[]}>} messages oldest first */
export function getConversation(id, { signal } = {}) {
  return getJSON(conversationUrl(id), { signal });
}

/** @returns {Promise<object>} the conversation as a list item */
export function renameConversation(id, title) {
  return sendJSON("PATCH", conversationUrl(id), { title });
}

/** Stop the answer being generated in a conversation, on whichever server runs it. */
export function stopAnswer(id) {
  return sendJSON("POST", `/api/chat/${encodeURIComponent(id)}/stop`, {});
}

export async function deleteConversation(id) {
  await apiFetch(conversationUrl(id), { method: "DELETE" });
}

/** The last 30 days unless `from`/`to` (YYYY-MM-DD, UTC) say otherwise. */
export function getUsage({ from, to, signal } = {}) {
  const query = new URLSearchParams();
  if (from) query.set("from", from);
  if (to) query.set("to", to);
  const search = query.toString();
  return getJSON(search ? `/api/usage?${search}` : "/api/usage", { signal });
}
