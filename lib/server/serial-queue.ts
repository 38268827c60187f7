// Runs async jobs one at a time, in arrival order.

export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `job` once every job queued before it has settled; its result is the job's. */
  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(job);
    // One job's failure must not stop the next.
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** Settles once every job queued so far has settled. */
  async idle(): Promise<void> {
    await this.#tail;
  }
}
