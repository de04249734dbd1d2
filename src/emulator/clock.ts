/** The emulator's clock, shared by V1 and V2. */

/**
 * The emulator's notion of "now". Every timestamp the emulator emits derives from it.
 *
 * @example
 * import { createEmulator, type EmulatorClock } from "certgate/emulator";
 * const clock: EmulatorClock = createEmulator().clock;
 * clock.set(Date.parse("2026-03-01T00:00:00+09:00")); // a leap-day birthday's boundary
 * clock.advance(60_000);
 */
export interface EmulatorClock {
  /** Unix milliseconds. */
  now(): number;
  advance(ms: number): void;
  set(ms: number): void;
}

/**
 * A clock starting at `startMs`. Frozen by default, so tests decide when time passes; with
 * `realTime` it also moves with the wall clock (for a long-running emulator), and `advance`/`set`
 * shift it.
 */
export function createClock(startMs: number, options: { realTime?: boolean } = {}): EmulatorClock {
  const wall = options.realTime ? () => Date.now() : () => 0;
  let offset = startMs - wall();
  return {
    now: () => wall() + offset,
    advance(ms) {
      offset += ms;
    },
    set(ms) {
      offset = ms - wall();
    },
  };
}

/** Unix seconds of the clock, as PortOne V1 reports times. */
export function nowSeconds(clock: EmulatorClock): number {
  return Math.floor(clock.now() / 1000);
}
