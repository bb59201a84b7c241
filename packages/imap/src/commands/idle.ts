import type { CommandHandler } from "../command.js";

/** How often IDLE also looks for changes without a notification (a lost broker message must not hide mail). */
export const IDLE_POLL_MS = 30_000;

/**
 * RFC 2177 IDLE: "+ idling", then changes are pushed as they happen (woken by the
 * mailbox.changed notifications) until the client sends DONE.
 */
export const idle: CommandHandler = async ({ session }) => {
  await session.continue("idling");
  const push = async () => {
    if (!session.selected) return;
    await session.reportChanges(true, true);
    // RFC 5267 §4.3: contexts are kept current while idling too.
    await session.updateContexts();
  };
  const pushAll = async () => {
    await push();
    // RFC 5465: while idling, NOTIFY's notifications go out at once (none without NOTIFY SET).
    await session.notifyPush();
  };
  // A change that arrives while a push is reading must cause one more push: the wake-up is
  // remembered (`pending`), not only delivered to a waiter that may not exist yet.
  let pending = false;
  let waiter: (() => void) | undefined;
  const wake = () => {
    pending = true;
    waiter?.();
  };
  session.onChange = wake;
  const poll = setInterval(wake, IDLE_POLL_MS);
  try {
    await pushAll();
    const line = session.nextLine();
    let ended = false;
    void line.then(() => {
      ended = true;
      wake();
    });
    while (!ended) {
      if (!pending) await new Promise<void>((resolve) => (waiter = resolve));
      waiter = undefined;
      pending = false;
      if (!ended) await pushAll();
    }
    const done = await line;
    if (!done) return { status: "NO", text: "connection ended" };
    if (done.segments.join("").trim().toUpperCase() !== "DONE") return { status: "BAD", text: "expected DONE" };
    return { status: "OK", text: "IDLE terminated" };
  } finally {
    clearInterval(poll);
    session.onChange = undefined;
  }
};
