/**
 * gatepass-tabs.js: one login, many tabs. Imported by gatepass.js and served beside it; see
 * docs/gatepass-js.md, "Many tabs, one refresh".
 *
 * All tabs of an origin share one cookie jar, so one refresh token, and refresh tokens are
 * single use. `Tabs` runs the operations that replace or clear it (login, refresh, logout) one
 * at a time across the tabs (a Web Lock), and sends new tokens to the other tabs (a
 * BroadcastChannel), so that a tab that waited can use the token another one just got.
 *
 * The lock grant and the message travel separately, and the grant often reaches a waiting tab
 * first (in a third of our runs in Chromium). So `share()` sends the message and then holds a
 * second lock named after it, the message's *mark*; `afterOthers()` notes the marks that exist
 * when it asks for the lock and, once granted, waits for the messages of the marks that
 * appeared meanwhile (each was sent before its mark existed). Only the lock manager decides who
 * waited for whose token, so the outcome never depends on timing.
 */

const MESSAGE_TIMEOUT_MS = 5_000; // a marked message is sent before its mark; only a crash loses it

export class Tabs {
  #lock;
  #markPrefix;
  #channel = null;
  #heardMarks = []; // the marks of the latest messages (this object's own included)
  #waiting = new Map(); // mark -> wake(), while a task waits for that message
  #dropMark = null; // releases this object's current mark

  /**
   * `lock`: the Web Lock's name; `channel`: the BroadcastChannel's; `onMessage(message)` gets
   * what other tabs (or other objects in this tab) send, before any task waiting for it runs.
   */
  constructor(lock, channel, onMessage) {
    this.#lock = lock;
    this.#markPrefix = `${lock} mark `;
    if (typeof BroadcastChannel === "function") {
      this.#channel = new BroadcastChannel(channel);
      this.#channel.addEventListener("message", ({ data }) => {
        if (!data || typeof data !== "object") return;
        onMessage(data);
        if (typeof data.mark === "string") this.#remember(data.mark);
      });
    }
  }

  /** Run `task` while no other tab of the origin runs one (without Web Locks: at once). */
  locked(task) {
    return navigator.locks ? navigator.locks.request(this.#lock, task) : task();
  }

  /** `locked(task)`, but every token sent while this tab waited has been heard first. */
  async afterOthers(task) {
    if (!navigator.locks) return task();
    const before = await this.#marks();
    return navigator.locks.request(this.#lock, async () => {
      for (const mark of await this.#marks()) {
        if (!before.has(mark)) await this.#messageMarked(mark);
      }
      return task();
    });
  }

  /** Tell the other tabs something that needs no mark (a logout). */
  tell(message) {
    this.#channel?.postMessage(message);
  }

  /** Send a new token to the other tabs, then leave its mark. Call it inside a task, so the
   * mark exists before the lock is released. */
  async share(message) {
    if (this.#channel === null) return;
    const mark = navigator.locks ? this.#markPrefix + crypto.randomUUID() : null;
    if (mark !== null) this.#remember(mark); // this object never waits for its own message
    this.#channel.postMessage({ ...message, mark });
    if (mark === null) return;
    // Hold the mark until this object sends its next token (or the page goes away).
    const previous = this.#dropMark;
    await new Promise((held) => {
      navigator.locks.request(mark, () => {
        held();
        return new Promise((drop) => {
          this.#dropMark = drop;
        });
      });
    });
    previous?.();
  }

  async #marks() {
    const { held = [] } = await navigator.locks.query();
    const names = held.map((lock) => lock.name);
    return new Set(names.filter((name) => name.startsWith(this.#markPrefix)));
  }

  /** Resolves once the message that left `mark` has been heard (it was sent first). */
  #messageMarked(mark) {
    if (this.#heardMarks.includes(mark)) return Promise.resolve();
    return new Promise((resolve) => {
      // Should the message never come (its tab crashed), the task runs anyway: for a refresh,
      // one request more, never a reuse, since the lock still keeps the requests apart.
      const timer = setTimeout(() => wake(), MESSAGE_TIMEOUT_MS);
      const wake = () => {
        clearTimeout(timer);
        this.#waiting.delete(mark);
        resolve();
      };
      this.#waiting.set(mark, wake);
    });
  }

  #remember(mark) {
    this.#heardMarks = [...this.#heardMarks.slice(-15), mark];
    this.#waiting.get(mark)?.();
  }
}
