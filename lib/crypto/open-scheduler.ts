// Where a response is opened: off the JS thread, or on it.
//
// Opening costs one RSA-4096 private operation (about 4 ms) whatever the size.
// Off the JS thread (a threadpool job whose work runs on one of the addon's
// crypto threads, native/crypto/crypto_threads.h) the event loop stays free and
// several responses use several cores, but the round trip there and back costs
// a lone small response about 0.2 ms of latency (the wake-ups of the threads
// that carry it), more than the AES and JSON work around it. So a small
// response that arrives alone, while no other is being opened, is opened on
// the JS thread; anything larger, or anything that has company, is offloaded.
//
// "Alone" is known at once when the response belongs to the only exchange in
// flight: no other response can be on its way. Otherwise it is decided once
// the current event-loop iteration has run, so that responses arriving
// together, or requests started in one loop, are all seen; that wait costs a
// loop turn (tens of microseconds), which a lone client need not pay.

/** One request/response exchange, from before its seal to after its open. */
export interface Exchange {
  /** Idempotent. */
  end(): void;
}

/** Larger responses are always offloaded. */
export const INLINE_OPEN_MAX_BYTES = 64 * 1024;

export class OpenScheduler {
  #offloaded = 0;
  #cohort: { size: number; settled: Promise<number> } | undefined;
  readonly #exchanges = new Set<Exchange>();

  /** Counts an exchange as in flight until its end(). */
  beginExchange(): Exchange {
    const exchange: Exchange = { end: () => this.#exchanges.delete(exchange) };
    this.#exchanges.add(exchange);
    return exchange;
  }

  /**
   * True when this small response may be opened on the JS thread now. `exchange`
   * is the one the response answers, when the caller counted it.
   */
  async mayOpenInline(bodyBytes: number, exchange?: Exchange): Promise<boolean> {
    if (bodyBytes > INLINE_OPEN_MAX_BYTES) return false;
    if (this.#isOnlyExchange(exchange) && this.#offloaded === 0 && this.#cohort === undefined) return true;
    const cohortSize = await this.#join();
    return cohortSize === 1 && this.#offloaded === 0;
  }

  /** Runs `open`, which is offloaded, counted so that small ones know they have company. */
  async offload<T>(open: () => Promise<T>): Promise<T> {
    this.#offloaded++;
    try {
      return await open();
    } finally {
      this.#offloaded--;
    }
  }

  #isOnlyExchange(exchange: Exchange | undefined): boolean {
    return exchange !== undefined && this.#exchanges.size === 1 && this.#exchanges.has(exchange);
  }

  /** Joins the small responses of this loop iteration; resolves with how many there were. */
  #join(): Promise<number> {
    if (this.#cohort === undefined) {
      let settle!: (size: number) => void;
      const cohort = { size: 0, settled: new Promise<number>((resolve) => (settle = resolve)) };
      this.#cohort = cohort;
      setImmediate(() => {
        this.#cohort = undefined;
        settle(cohort.size);
      });
    }
    this.#cohort.size++;
    return this.#cohort.settled;
  }
}
