/**
 * One suite for every host framework a merchant mounts certgate in (Express, Fastify, Hono, a
 * Next.js-style `(req: Request) => Response` route handler), the way the store suites loop over
 * databases. Each host file builds its app from {@link HostParts} — certgate's app, mounted under a
 * prefix, and the merchant's own two routes calling the service — and listens on a real socket; the
 * suite then runs real verifications against the emulator (also on a socket) through both, and the
 * bad inputs that must answer 4xx JSON with certgate's stable code, never the framework's 500 page.
 * Only the package's public API is used (src/index.ts).
 */
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createEmulator, serveEmulator, TEST_MERCHANT } from "../../src/emulator/index.js";
import {
  createHttpApp,
  createKeyring,
  createV1Client,
  createVerificationService,
  type HttpAppOptions,
  openStore,
  type PolicyInput,
  type Store,
  type VerificationService,
} from "../../src/index.js";

export const HOST_API_KEY = "library_host_api_key_00001";
const silent = { info() {}, warn() {}, error() {} };

/**
 * The merchant's own sign-up routes, framework-neutral: the host file only moves JSON in and out
 * and hands thrown errors to certgate's mapper (`toErrorResponse` / `errorToResponse`).
 */
export interface OwnRoutes {
  /** `POST /signup/start` `{ accountRef, policy }` → 201 `{ merchant_uid }`: the body as JavaScript gives it. */
  start(body: unknown): Promise<{ merchant_uid: string }>;
  /** `POST /signup/verify` `{ imp_uid, merchant_uid }` → 200 `{ status, reason }`. */
  verify(body: unknown): Promise<{ status: string; reason: string | null }>;
}

export interface HostParts {
  /** certgate's app; `basePath` set when the host asked for one (see {@link describeHost}). */
  certgate: Hono;
  own: OwnRoutes;
}

export interface RunningHost {
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

/** `server` listening on an ephemeral port of 127.0.0.1, as a {@link RunningHost}. */
export async function listenOn(server: Server): Promise<RunningHost> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("no address");
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const startBody = z.object({ accountRef: z.string().optional(), policy: z.unknown() });
const verifyBody = z.object({ imp_uid: z.string(), merchant_uid: z.string() });

function ownRoutes(service: VerificationService): OwnRoutes {
  return {
    async start(body) {
      const input = startBody.parse(body);
      // The policy goes in as the browser sent it: the service refuses what it does not know.
      const verification = await service.create({
        accountRef: input.accountRef,
        policy: input.policy as PolicyInput,
      });
      return { merchant_uid: verification.boundId };
    },
    async verify(body) {
      const { imp_uid, merchant_uid } = verifyBody.parse(body);
      const outcome = await service.completeV1({ impUid: imp_uid, merchantUid: merchant_uid });
      return { status: outcome.verification.status, reason: outcome.verification.reason ?? null };
    },
  };
}

/**
 * The suite, for one host. `mount` is where certgate's routes answer ("/certgate"); with
 * `basePath: true` certgate's app is built with `basePath: mount` (a host that passes the full path).
 */
export function describeHost(
  name: string,
  options: { mount: string; basePath?: boolean },
  start: (parts: HostParts) => Promise<RunningHost>,
) {
  describe(`certgate in ${name}`, () => {
    const slug = name.replace(/[^A-Za-z0-9]+/g, "-");
    const emulator = createEmulator({ admin: true });
    let upstream: Awaited<ReturnType<typeof serveEmulator>>;
    let store: Store;
    let host: RunningHost;
    let dir: string;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "certgate-host-"));
      upstream = await serveEmulator(emulator);
      store = await openStore({
        databaseUrl: join(dir, "host.sqlite"),
        keyring: createKeyring({ secret: "library-host-secret-not-a-real-one-000" }),
      });
      const v1 = createV1Client({
        apiKey: TEST_MERCHANT.impKey,
        apiSecret: TEST_MERCHANT.impSecret,
        baseUrl: upstream.url,
        now: () => emulator.clock.now(),
      });
      const service = createVerificationService({ store, v1, now: () => new Date(emulator.clock.now()) });
      const appOptions: HttpAppOptions = {
        service,
        apiKeys: [HOST_API_KEY],
        returnOrigins: [],
        sandbox: false,
        sdk: { impCode: TEST_MERCHANT.impCode },
        logger: silent,
        ...(options.basePath ? { basePath: options.mount } : {}),
      };
      host = await start({ certgate: createHttpApp(appOptions), own: ownRoutes(service) });
    });

    afterAll(async () => {
      await host?.close();
      await upstream?.close();
      await store?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const post = (path: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${host.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      });
    /** A certification bound to `merchant_uid`, of a person of their own (`seed`) when given. */
    const certify = (merchant_uid: string, birthday?: string, seed?: string) =>
      emulator.createCertification(
        birthday === undefined
          ? { persona: "adult", merchant_uid }
          : { person: { name: "김하늘", birthday, seed: `${slug}-${seed}` }, merchant_uid },
      ).imp_uid;

    it("runs a verification end to end through certgate's mounted routes", async () => {
      const created = await post(
        `${options.mount}/api/verifications`,
        JSON.stringify({ account_ref: `${slug}-mounted`, policy: { min_age: 19, age_rule: "year" } }),
        { authorization: `Bearer ${HOST_API_KEY}` },
      );
      expect(created.status).toBe(201);
      const { merchant_uid } = z.object({ merchant_uid: z.string() }).parse(await created.json());
      const done = await post(
        `${options.mount}/certifications`,
        JSON.stringify({ imp_uid: certify(merchant_uid), merchant_uid }),
      );
      expect(done.status).toBe(200);
      expect(await done.json()).toMatchObject({ verification: { status: "verified" } });
    });

    it("runs the merchant's own routes with a short-form policy: verified, then underage", async () => {
      for (const [who, birthday, status, reason] of [
        ["adult", "1990-03-01", "verified", null],
        ["minor", "2015-05-05", "rejected", "underage"],
      ] as const) {
        const started = await post(
          "/signup/start",
          JSON.stringify({ accountRef: `${slug}-${who}`, policy: { minAge: 19 } }),
        );
        expect(started.status).toBe(201);
        const { merchant_uid } = z.object({ merchant_uid: z.string() }).parse(await started.json());
        const done = await post(
          "/signup/verify",
          JSON.stringify({ imp_uid: certify(merchant_uid, birthday, who), merchant_uid }),
        );
        expect([done.status, await done.json()]).toEqual([200, { status, reason }]);
      }
    });

    it.each([
      ["a misspelt policy key", "/signup/start", { policy: { minage: 19 } }, 400, "unknown_field"],
      ["an impossible age", "/signup/start", { policy: { minAge: 200 } }, 400, "invalid_request"],
      ["a policy that is no object", "/signup/start", { policy: "adult" }, 400, "invalid_request"],
      [
        "a merchant_uid certgate never issued",
        "/signup/verify",
        { imp_uid: "imp_000000000000", merchant_uid: "mid_never_issued" },
        404,
        "not_found",
      ],
    ])(
      "answers %s on its own route with 4xx JSON and the stable code",
      async (_, path, body, status, code) => {
        const res = await post(path, JSON.stringify(body));
        expect([res.status, res.headers.get("content-type")]).toEqual([
          status,
          expect.stringMatching(/json/),
        ]);
        expect(await res.json()).toMatchObject({ error: { code, message: expect.any(String) } });
      },
    );

    it("answers a path certgate does not serve under its mount with certgate's JSON 404", async () => {
      const res = await post(`${options.mount}/no-such-route`, "{}");
      expect([res.status, res.headers.get("content-type")]).toEqual([404, expect.stringMatching(/json/)]);
      expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
    });

    it("answers a body that is not JSON with 400 invalid_json, on its own routes and certgate's", async () => {
      for (const path of ["/signup/start", `${options.mount}/certifications`]) {
        const res = await post(path, '{"policy": ');
        expect([path, res.status, await res.json()]).toEqual([
          path,
          400,
          { error: { code: "invalid_json", message: expect.any(String) } },
        ]);
      }
    });

    it("answers certgate's merchant API without a key with 401 JSON", async () => {
      const res = await post(`${options.mount}/api/verifications`, "{}");
      expect([res.status, await res.json()]).toEqual([
        401,
        { error: { code: "unauthorized", message: expect.any(String) } },
      ]);
    });
  });
}
