import pino from "pino";
import { currentRequestId } from "../observability/request-context.js";
import type { LogLevel } from "./config.js";

/**
 * The process logger: JSON lines on stdout. Call sites pass ids and decisions only; the redact
 * list is a second line of defence should a personal or secret field ever be passed by mistake.
 * Every line written while an HTTP request is served carries that request's `request_id`.
 * `level` is LOG_LEVEL's, validated by `loadLogLevel` (cli/config.ts).
 */
export function createLogger(destination?: pino.DestinationStream, level: LogLevel = "info") {
  return pino(
    {
      level,
      base: undefined,
      mixin: () => {
        const requestId = currentRequestId();
        return requestId === undefined ? {} : { request_id: requestId };
      },
      redact: {
        paths: [
          "name",
          "phone",
          "birthday",
          "birth",
          "unique_key",
          "unique_in_site",
          "ci",
          "di",
          "token",
          "*.name",
          "*.phone",
        ],
        censor: "[redacted]",
      },
    },
    destination,
  );
}
