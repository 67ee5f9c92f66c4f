// Who is using the page, and the access token the API client sends for them. Touches no DOM.
//
// Three ways, chosen by /config.json's `auth.provider`:
//   "supabase": Supabase Auth through supabase-js (email + password, magic link), the session kept
//               in localStorage by supabase-js and refreshed by it;
//   "local":    `chimera dev`'s local person, a token from POST /api/dev/token, no form;
//   "token":    an access token the person pastes, kept in localStorage.
//
// Every session has: provider, user ({id, email} or null), needsSignIn, problem (a sentence for the
// sign-in view, or null), accessToken(), rejected(token), signOut(), subscribe(listener).
// Supabase sessions add magicLink, signInWithPassword() and sendMagicLink(); pasted-token
// sessions add useToken(). Listeners are called with the session on every change.

import { createClient } from "@supabase/supabase-js";

const RENEW_BEFORE_S = 30; // a local token is renewed this long before it expires
const PASTED_TOKEN_KEY = "chimera.accessToken";
const SUPABASE_STORAGE_KEY = "chimera.supabase"; // supabase-js keeps the session here (localStorage)

/** @param {{provider?: string, url?: string, publishableKey?: string, magicLink?: boolean}} authConfig */
export async function createSession(authConfig) {
  switch (authConfig?.provider) {
    case "supabase":
      return supabaseSession(authConfig);
    case "token":
      return pastedTokenSession();
    default:
      return localSession();
  }
}

// --- What every session shares -------------------------------------------------------------------

function baseSession(provider) {
  const listeners = new Set();
  return {
    provider,
    user: null,
    needsSignIn: false,
    problem: null,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    notify() {
      for (const listener of [...listeners]) {
        try {
          listener(this);
        } catch (error) {
          console.error("a session listener failed", error);
        }
      }
    },
  };
}

/** The claims of a JWT, unverified (the server verifies; the page only shows who and until when). */
export function claimsOf(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0)));
    const claims = JSON.parse(json);
    return claims && typeof claims === "object" ? claims : null;
  } catch {
    return null;
  }
}

// --- Sentences a person can act on ----------------------------------------------------------------

const SENTENCES = {
  invalid_credentials: "That email and password don't match an account. Check them and try again.",
  email_not_confirmed:
    "This email address isn't confirmed yet. Open the link in the confirmation email, then sign in.",
  over_email_send_rate_limit:
    "A sign-in link was sent a moment ago. Check your inbox (and spam folder), or wait a minute and ask again.",
  over_request_rate_limit: "Too many sign-in attempts. Please wait a minute and try again.",
  email_provider_disabled: "Email sign-in links are turned off for this site. Please use your password.",
  otp_disabled: "There is no account for that email address.",
  signup_disabled: "There is no account for that email address, and this site does not take new sign-ups.",
  otp_expired: "That sign-in link has expired or was already used. Ask for a new one below.",
  user_banned: "This account is blocked. Please contact the site's owner.",
  validation_failed: "Please enter a valid email address.",
  otp_elsewhere: "Open the sign-in link in the same browser where you asked for it, or ask for a new link here.",
};

/** A supabase-js AuthError (or anything thrown) as a sentence for the sign-in form. */
export function describeAuthError(error) {
  const code = error?.code || error?.details?.code;
  if (code && SENTENCES[code]) return SENTENCES[code];
  if (error?.name === "AuthRetryableFetchError" || error?.status === 0 || error instanceof TypeError) {
    return "The sign-in service can't be reached right now. Check your connection and try again.";
  }
  if (error?.name === "AuthPKCECodeVerifierMissingError") return SENTENCES.otp_elsewhere;
  const detail = typeof error?.message === "string" && error.message ? ` (${error.message})` : "";
  return `Signing in didn't work${detail}. Please try again.`;
}
const EXPIRED = "Your sign-in has expired. Please sign in again.";

// --- Supabase Auth ----------------------------------------------------------------------------------

async function supabaseSession({ url, publishableKey, magicLink }) {
  const session = baseSession("supabase");
  session.magicLink = magicLink !== false;
  // PKCE: a magic link comes back as ?code=… (exchanged with a verifier only this browser holds),
  // never as tokens in the address, and the page's own #/c/<id> address is left alone.
  const client = createClient(url, publishableKey, {
    auth: {
      flowType: "pkce",
      persistSession: true,
      autoRefreshToken: true,
      detectSessionInUrl: true,
      storageKey: SUPABASE_STORAGE_KEY,
    },
  });
  let current = null; // supabase-js's Session
  let refreshNext = false; // the API refused the token: refresh before handing out another
  let forced = null; // a token from that forced refresh: if it is refused too, the session is over

  const apply = (next) => {
    current = next ?? null;
    session.user = current ? { id: current.user.id, email: current.user.email ?? null } : null;
    session.needsSignIn = !current;
    if (current) session.problem = null;
  };

  const comingBack = new URL(location.href);
  const hadCode = comingBack.searchParams.has("code");
  const { error: arrival } = await client.auth.initialize(); // exchanges a magic link's ?code=
  const { data } = await client.auth.getSession();
  apply(data.session);
  if (arrival) session.problem = describeAuthError(arrival);
  else if (hadCode && !current) session.problem = SENTENCES.otp_elsewhere;
  cleanAddress();

  // supabase-js reports sign-in, refresh (every tab) and sign-out here. Nothing in this callback may
  // await the client (supabase-js holds its lock while calling it).
  client.auth.onAuthStateChange((_event, next) => {
    const before = current?.access_token;
    apply(next);
    if (before !== current?.access_token) session.notify();
  });

  const dropSession = async (problem) => {
    await client.auth.signOut({ scope: "local" });
    apply(null);
    session.problem = problem;
    session.notify();
  };

  Object.assign(session, {
    async accessToken() {
      if (refreshNext) {
        refreshNext = false;
        const { data: refreshed, error } = await client.auth.refreshSession();
        if (error?.name === "AuthRetryableFetchError") return null; // Auth unreachable: not signed out
        if (error || !refreshed.session) {
          await dropSession(EXPIRED);
          return null;
        }
        forced = refreshed.session.access_token;
        return forced;
      }
      // getSession refreshes a token that expires within supabase-js's margin (90 s) first.
      const { data: fresh, error } = await client.auth.getSession();
      if (error && !fresh.session) {
        await dropSession(EXPIRED);
        return null;
      }
      return fresh.session?.access_token ?? null;
    },
    rejected(token) {
      if (!current || token !== current.access_token) return; // an older token: already replaced
      if (token === forced) {
        forced = null;
        dropSession(EXPIRED);
      } else {
        refreshNext = true;
      }
    },
    async signInWithPassword(email, password) {
      const { error } = await client.auth.signInWithPassword({ email, password });
      if (error) return { error: describeAuthError(error), code: error.code ?? null };
      const { data: signedIn } = await client.auth.getSession();
      apply(signedIn.session);
      session.notify();
      return { error: null };
    },
    async sendMagicLink(email) {
      const { error } = await client.auth.signInWithOtp({
        email,
        options: { emailRedirectTo: `${location.origin}${location.pathname}` },
      });
      return error ? { error: describeAuthError(error), code: error.code ?? null } : { error: null };
    },
    async signOut() {
      // This browser only: "Sign out" on one device should not end the person's other sessions.
      const { error } = await client.auth.signOut({ scope: "local" });
      if (error) {
        // supabase-js keeps the session when the server cannot be told (offline): forget it here
        // anyway, or a reload would sign the person back in.
        console.warn("sign-out did not reach Supabase; signed out in this browser only", error);
        forgetSupabaseSession();
      }
      apply(null);
      session.problem = null;
      session.notify();
    },
  });
  return session;
}

function forgetSupabaseSession() {
  try {
    for (const suffix of ["", "-user", "-code-verifier"]) localStorage.removeItem(SUPABASE_STORAGE_KEY + suffix);
  } catch {
    // storage refused: nothing was kept there either
  }
}

/** Take what a sign-in link left in the address away: ?code= and GoTrue's error parameters. */
function cleanAddress() {
  const address = new URL(location.href);
  let changed = false;
  for (const name of ["code", "error", "error_code", "error_description"]) {
    if (address.searchParams.has(name)) {
      address.searchParams.delete(name);
      changed = true;
    }
  }
  const fragment = new URLSearchParams(address.hash.slice(1));
  if (fragment.has("error_code") || fragment.has("access_token") || fragment.has("sb")) {
    address.hash = "";
    changed = true;
  }
  if (changed) history.replaceState(history.state, "", address.toString());
}

// --- The local person of `chimera dev` --------------------------------------------------------------

function localSession() {
  const session = baseSession("local");
  let token = null; // {value, expiresAt} in seconds
  let pending = null; // one request at a time: callers during a fetch share it

  const fetchToken = async () => {
    try {
      const response = await fetch("/api/dev/token", { method: "POST" });
      if (!response.ok) throw new Error(`POST /api/dev/token answered ${response.status}`);
      const body = await response.json();
      token = { value: body.accessToken, expiresAt: Number(body.expiresAt) || Infinity };
      const changed = session.needsSignIn || session.user?.id !== body.userId;
      session.user = { id: body.userId, email: null };
      session.needsSignIn = false;
      session.problem = null;
      if (changed) session.notify();
      return token.value;
    } catch (error) {
      console.warn("no local sign-in", error);
      token = null;
      const changed = !session.needsSignIn;
      session.needsSignIn = true;
      session.problem = "This server hands out no local sign-in. Is it running `chimera dev`?";
      if (changed) session.notify();
      return null;
    }
  };

  Object.assign(session, {
    async accessToken() {
      if (token && token.expiresAt - RENEW_BEFORE_S > Date.now() / 1000) return token.value;
      pending ??= fetchToken().finally(() => {
        pending = null;
      });
      return pending;
    },
    rejected(refused) {
      if (token?.value === refused) token = null; // the next call asks for a new one
    },
    async signOut() {}, // the local person cannot sign out; the account view is hidden for them
  });
  return session;
}

// --- A pasted access token ---------------------------------------------------------------------------

function pastedTokenSession() {
  const session = baseSession("token");
  let token = null;

  const set = (value, problem = null) => {
    const claims = value ? claimsOf(value) : null;
    token = claims ? value : null;
    session.user = claims ? { id: String(claims.sub ?? ""), email: claims.email ?? null } : null;
    session.needsSignIn = !token;
    session.problem = problem;
    try {
      if (token) localStorage.setItem(PASTED_TOKEN_KEY, token);
      else localStorage.removeItem(PASTED_TOKEN_KEY);
    } catch {
      // storage refused (private mode): the token lasts as long as the page
    }
  };
  const expired = () => {
    const exp = Number(claimsOf(token)?.exp);
    return Number.isFinite(exp) && exp <= Date.now() / 1000;
  };

  let stored = null;
  try {
    stored = localStorage.getItem(PASTED_TOKEN_KEY);
  } catch {
    stored = null;
  }
  set(stored);
  if (token && expired()) set(null, "The access token you pasted has expired. Paste a new one.");

  Object.assign(session, {
    async accessToken() {
      if (token && expired()) {
        set(null, "The access token you pasted has expired. Paste a new one.");
        session.notify();
      }
      return token;
    },
    rejected(refused) {
      if (refused !== token) return;
      set(null, "The server refused that access token. Paste a new one.");
      session.notify();
    },
    /** @returns {{error: string|null}} */
    useToken(value) {
      const trimmed = String(value ?? "")
        .trim()
        .replace(/^Bearer\s+/i, "");
      if (!claimsOf(trimmed)) return { error: "That doesn't look like an access token (three parts joined by dots)." };
      const exp = Number(claimsOf(trimmed).exp);
      if (Number.isFinite(exp) && exp <= Date.now() / 1000) return { error: "That access token has expired." };
      set(trimmed);
      session.notify();
      return { error: null };
    },
    async signOut() {
      set(null);
      session.notify();
    },
  });
  return session;
}
