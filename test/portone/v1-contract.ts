/**
 * The V1 client's contract: behaviour that must hold against ANY PortOne V1, the emulator (in process
 * and over a socket) and the real api.iamport.kr alike. No faults, no clock control, nothing
 * destructive (no delete, no OTP: those would touch real records or send real SMS).
 *
 * Observations go through the client's own `onEvent` hook, which works against every target.
 * Secret checks use boolean assertions so a failure never prints a live secret into a CI log.
 */
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { RequestError, UpstreamError } from "../../src/core/errors.js";
import {
  type ClientEvent,
  createV1Client,
  type V1Client,
  type V1ClientOptions,
} from "../../src/portone/index.js";

/** A PortOne V1 to test against. Methods are called lazily, inside tests, after any setup hook ran. */
export interface V1ContractTarget {
  /** Options reaching the target (credentials, baseUrl, fetch, now). */
  clientOptions(): V1ClientOptions;
  /** An imp_uid that exists under the target's merchant account. */
  knownImpUid(): Promise<string>;
  /** An imp_uid that does not exist (or belongs to nobody this account can see). */
  unknownImpUid: string;
  /** Calls `POST /users/getToken` directly, outside the client, and returns the access token. */
  rawToken(): Promise<string>;
  /** How many lookups to fire at once at a cold client (keep it polite for a live API). */
  concurrency: number;
}

/** A client on `target` that records its events; `overrides` win over the target's options. */
export function observedClient(
  options: V1ClientOptions,
  overrides: Partial<V1ClientOptions> = {},
): { client: V1Client; events: ClientEvent[] } {
  const events: ClientEvent[] = [];
  const client = createV1Client({ ...options, ...overrides, onEvent: (event) => events.push(event) });
  return { client, events };
}

/** Requests an event list shows for `route`. */
export function requestsTo(events: readonly ClientEvent[], route: string) {
  return events.filter((event) => event.type === "request" && event.route === route);
}

/** Awaits `promise`, which must reject, and returns the rejection. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection, got a value");
}

/** Awaits `promise`, which must reject with an {@link UpstreamError}, and returns it. */
export async function upstreamErrorOf(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await rejectionOf(promise);
  if (!(error instanceof UpstreamError)) throw new Error(`expected an UpstreamError, got ${String(error)}`);
  return error;
}

/** Every way a value might be printed: message, String, inspect (with causes) and JSON. */
export function printed(value: unknown): string {
  const json = (() => {
    try {
      return JSON.stringify(value) ?? "";
    } catch {
      return "";
    }
  })();
  const message = value instanceof Error ? `${value.message} ${value.stack ?? ""}` : "";
  return [message, String(value), inspect(value, { depth: 10, showHidden: true }), json].join("\n");
}

/** Registers the contract tests for `target` in the current `describe`. */
export function defineV1ContractTests(target: V1ContractTarget): void {
  describe("getCertification", () => {
    it("returns the record PortOne holds for a known imp_uid", async () => {
      const impUid = await target.knownImpUid();
      const { client } = observedClient(target.clientOptions());
      const record = await client.getCertification(impUid);
      expect(record.imp_uid).toBe(impUid);
      expect(typeof record.pg_provider).toBe("string");
      expect(typeof record.foreigner).toBe("boolean");
      // null upstream fields come out absent, never null.
      for (const value of Object.values(record)) expect(value).not.toBeNull();
    });

    it("answers not_found for an unknown imp_uid: a 404 is never success", async () => {
      const { client, events } = observedClient(target.clientOptions());
      const error = await upstreamErrorOf(client.getCertification(target.unknownImpUid));
      expect(error.code).toBe("not_found");
      expect(error.status).toBe(404);
      expect(requestsTo(events, "getCertification")).toHaveLength(1);
    });

    it.each([
      ["empty", ""],
      ["a slash", "imp_1/../users"],
      ["a parent segment", ".."],
      ["a dot segment", "."],
      ["a control character", "imp_1\n"],
    ])("refuses an imp_uid with %s without calling PortOne", async (_, impUid) => {
      const { client, events } = observedClient(target.clientOptions());
      const error = await rejectionOf(client.getCertification(impUid));
      expect(error).toBeInstanceOf(RequestError);
      expect(events).toEqual([]);
    });
  });

  describe("access token", () => {
    it(`lets ${target.concurrency} concurrent lookups on a cold client share ONE getToken`, async () => {
      const impUid = await target.knownImpUid();
      const { client, events } = observedClient(target.clientOptions());
      const records = await Promise.all(
        Array.from({ length: target.concurrency }, () => client.getCertification(impUid)),
      );
      expect(records.every((record) => record.imp_uid === impUid)).toBe(true);
      expect(requestsTo(events, "getToken")).toHaveLength(1);
      expect(events.filter((event) => event.type === "token_refresh")).toEqual([
        { type: "token_refresh", reason: "cold" },
      ]);
      expect(requestsTo(events, "getCertification")).toHaveLength(target.concurrency);
    });

    it("reuses the cached token for later calls", async () => {
      const impUid = await target.knownImpUid();
      const { client, events } = observedClient(target.clientOptions());
      await client.getCertification(impUid);
      await client.getCertification(impUid);
      await client.getCertification(target.unknownImpUid).catch(() => undefined);
      expect(requestsTo(events, "getToken")).toHaveLength(1);
    });

    it("answers unauthorized for a wrong secret, once, without retrying", async () => {
      const { client, events } = observedClient(target.clientOptions(), {
        apiSecret: "certgate_wrong_secret",
      });
      const error = await upstreamErrorOf(client.getCertification(await target.knownImpUid()));
      expect(error.code).toBe("unauthorized");
      expect(error.status).toBe(401);
      expect(requestsTo(events, "getToken")).toHaveLength(1);
      expect(requestsTo(events, "getCertification")).toHaveLength(0);
    });
  });

  describe("secrets", () => {
    it("never shows the key, the secret or the token in errors, events, inspect() or JSON", async () => {
      const options = target.clientOptions();
      const { client, events } = observedClient(options);
      const impUid = await target.knownImpUid();
      await client.getCertification(impUid);
      // PortOne hands every caller of one key the same token while it is valid: this is the client's.
      const token = await target.rawToken();
      const notFound = await rejectionOf(client.getCertification(target.unknownImpUid));
      const refused = await rejectionOf(
        observedClient(options, { apiSecret: `${options.apiSecret}_wrong` }).client.getCertification(impUid),
      );
      const surfaces = [notFound, refused, client, events].map(printed).join("\n");
      for (const secret of [options.apiKey, options.apiSecret, token]) {
        // A boolean, so a failure cannot print the secret itself.
        expect(surfaces.includes(secret), "a secret is visible").toBe(false);
      }
      expect(JSON.stringify(client)).toBe("{}");
    });
  });
}
