// Main-thread work that cannot leave the event loop (building JS objects from a
// large decrypted response) runs one piece per loop iteration. Responses that
// finish decrypting together would otherwise be parsed back to back, and the
// loop would stall for the sum of their parses instead of the longest one.

const queue: Array<() => void> = [];
let scheduled = false;

function drainOne(): void {
  const next = queue.shift();
  if (queue.length > 0) setImmediate(drainOne);
  else scheduled = false;
  next?.();
}

/** Runs `work` in an event-loop iteration of its own, after the work queued before it. */
export function onOwnTurn<T>(work: () => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    queue.push(() => {
      try {
        resolve(work());
      } catch (error) {
        reject(error);
      }
    });
    if (!scheduled) {
      scheduled = true;
      setImmediate(drainOne);
    }
  });
}
