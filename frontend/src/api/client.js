// The API client: fetch with the session's token and RFC 9457 problems, and the JSON routes.
// Nothing here touches the DOM.


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

/** There is no token to send: the person has to sign in. */
export class SignInRequired extends Error {
  /** @param {boolean} rejected a token was refused (rather than none being there) */
  constructor(rejected) {
    super(rejected ? "Your sign-in has expired. Please sign in again." : "Please sign in to continue.");
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

/**
 * Where tokens come from: the session (Supabase, the local identity, or a pasted token).
 * @type {{accessToken: () => Promise<string|null>, rejected: (token: string) => void}}
 */
let auth = { accessToken: async () => null, rejected: () => {} };

/** Called once at start with the session. */
export function useSession(session) {
  auth = session;
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
    if (!token) throw new SignInRequired(false);
    const headers = { ...init.headers, Authorization: `Bearer ${token}` };
    return fetch(url, { ...init, headers });
  };
  const token = await auth.accessToken();
  let response = await attempt(token);
  if (response.status === 401) {
    await response.body?.cancel();
    auth.rejected(token);
    const renewed = await auth.accessToken();
    if (!renewed || renewed === token) throw new SignInRequired(true);
    response = await attempt(renewed);
    if (response.status === 401) {
      await response.body?.cancel();
      auth.rejected(renewed);
      throw new SignInRequired(true);
    }
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
