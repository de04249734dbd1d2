/**
 * The FLOOR: the least any server must do for one verification on certgate's own stack, to which
 * certgate's CPU per verification is compared (issue 13). One Hono route on @hono/node-server that
 * parses `{imp_uid, merchant_uid}` (read from Node's request stream, as certgate reads it), makes
 * the ONE upstream call a verification needs — `GET /certifications/{imp_uid}` with a cached access
 * token, through a keep-alive `node:http` agent — and answers with the record's `certified` flag.
 * Nothing else: no store, no crypto, no policy, no logging, no metrics, no timeout; one retry when a
 * kept-alive socket was closed. Not a server anyone should run; a measuring stick.
 *
 * Run by the benchmark as plain JavaScript (bench/run.ts transpiles it), one process:
 *   PORT=0 HOST=127.0.0.1 IAMPORT_API_URL=http://127.0.0.1:4010 IMP_KEY=… IMP_SECRET=…
 * It prints one JSON line `{"msg":"floor is serving","url":…}` once it listens.
 */
import { Agent, type IncomingMessage, request } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const upstream = new URL(env("IAMPORT_API_URL"));
// Free sockets closed after 4 s, before the emulator's 5 s keep-alive timeout (as certgate's agent).
const agent = new Agent({ keepAlive: true, timeout: 4_000 });

/** One request to the emulator over the keep-alive agent; resolves with the status and JSON body. */
function call(method: string, path: string, headers: Record<string, string>, body?: string) {
  return new Promise<{ status: number; json: unknown }>((resolve, reject) => {
    const req = request(
      { host: upstream.hostname, port: upstream.port, method, path, headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          try {
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) });
          } catch (error) {
            reject(error);
          }
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

let token: Promise<string> | undefined;
/** The access token, fetched once (the floor never renews it: a run is far shorter than its life). */
function accessToken(): Promise<string> {
  token ??= call(
    "POST",
    "/users/getToken",
    { "content-type": "application/json" },
    JSON.stringify({ imp_key: env("IMP_KEY"), imp_secret: env("IMP_SECRET") }),
  ).then(({ json }) => (json as { response: { access_token: string } }).response.access_token);
  return token;
}

/**
 * The body, read from Node's IncomingMessage as certgate reads it (src/http/requests.ts): building
 * the web Request and its stream costs more than the few dozen bytes are worth.
 */
function bodyOf(incoming: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => resolve(Buffer.concat(chunks).toString()));
    incoming.on("error", reject);
  });
}

const app = new Hono<{ Bindings: { incoming: IncomingMessage } }>();
app.post("/certifications", async (c) => {
  const { imp_uid, merchant_uid } = JSON.parse(await bodyOf(c.env.incoming));
  if (typeof imp_uid !== "string" || typeof merchant_uid !== "string") return c.json({ ok: false }, 400);
  const path = `/certifications/${encodeURIComponent(imp_uid)}`;
  const headers = { authorization: await accessToken() };
  // One retry of the idempotent GET when a keep-alive socket was closed under it (certgate retries too).
  const { status, json } = await call("GET", path, headers).catch(() => call("GET", path, headers));
  const certified = (json as { response?: { certified?: boolean } }).response?.certified === true;
  return c.json({ certified }, status === 200 ? 200 : 502);
});

const server = serve(
  { fetch: app.fetch, port: Number(process.env.PORT ?? 3000), hostname: process.env.HOST ?? "127.0.0.1" },
  () => {
    const { address, port } = server.address() as AddressInfo;
    console.log(JSON.stringify({ msg: "floor is serving", url: `http://${address}:${port}` }));
  },
);

const stop = () => server.close(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
