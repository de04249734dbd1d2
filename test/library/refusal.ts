/** The ConfigError a factory throws, for the option suites (option-keys, option-values). */
import { expect } from "vitest";
import { ConfigError } from "../../src/core/errors.js";

/** The ConfigError `run` throws, synchronously or as a rejection; fails the test otherwise. */
export async function refusal(run: () => unknown): Promise<ConfigError> {
  let thrown: unknown;
  try {
    await run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  return thrown as ConfigError;
}
