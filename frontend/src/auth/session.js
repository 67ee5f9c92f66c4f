// TEMPORARY stand-in written by the lead so the page builds until the session module lands:
// the local identity only (POST /api/dev/token). Replace freely.
export async function createSession() {
  let token = null;
  const listeners = new Set();
  const session = {
    provider: "local",
    user: null,
    needsSignIn: false,
    async accessToken() {
      if (token && token.expiresAt - 30 > Date.now() / 1000) return token.value;
      const response = await fetch("/api/dev/token", { method: "POST" });
      if (!response.ok) return null;
      const body = await response.json();
      token = { value: body.accessToken, expiresAt: Number(body.expiresAt) || Infinity };
      return token.value;
    },
    rejected() {
      token = null;
    },
    async signOut() {},
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return session;
}
