// Tabs of the same page tell each other when an answer starts or ends, so a second tab showing the
// conversation follows the answer too. BroadcastChannel reaches only this origin's tabs.

export class TabChannel {
  constructor(name = "chimera") {
    this.channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(name) : null;
  }

  /** @param {{type: "turn-started"|"turn-ended", conversationId: string}} message */
  say(message) {
    this.channel?.postMessage(message);
  }

  listen(listener) {
    this.channel?.addEventListener("message", (event) => listener(event.data));
  }
}
