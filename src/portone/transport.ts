/**
 * One HTTP exchange (request, status, whole body) bounded by a timeout, for portone/http.ts. Two
 * transports, one contract:
 *
 * - `nodeExchange` (the default): `node:http` / `node:https` through one keep-alive agent per
 *   protocol, shared by every client in the process. A lookup costs about a third of the CPU of
 *   global `fetch` (no Request/Response objects, no web streams, no AbortSignal); free sockets are
 *   closed after {@link FREE_SOCKET_TIMEOUT_MS}, before a server's usual 5 s keep-alive timeout, so
 *   a request is rarely written to a socket the server is closing (and an idempotent one that is,
 *   is retried by http.ts).
 * - `fetchExchange`: a caller's `fetch` (the in-process emulator, a test double, a proxying fetch).
 *
 * The timeout covers the response headers AND the body. It is one `setTimeout` per attempt, which
 * Node keeps in one list per duration (one libuv timer for all attempts of one client), cleared as
 * the answer is complete. Redirects are never followed: PortOne sends none, and following one could
 * carry the token elsewhere.
 */
import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

export type Exchange =
  | { kind: "answered"; status: number; text: string }
  | { kind: "timeout"; status: number | undefined }
  | { kind: "network"; status: number | undefined; cause: unknown };

export interface ExchangeRequest {
  method: "GET" | "POST" | "DELETE";
  /** Path below the origin, already encoded. */
  path: string;
  headers: Record<string, string>;
  body?: string | undefined;
}

/** Sends one request to the client's base URL; never rejects. */
export type Exchanger = (request: ExchangeRequest, timeoutMs: number) => Promise<Exchange>;

/** Free keep-alive sockets are closed after this long (servers commonly close theirs at 5 s). */
export const FREE_SOCKET_TIMEOUT_MS = 4_000;

let agents: { http: HttpAgent; https: HttpsAgent } | undefined;

function sharedAgents() {
  agents ??= {
    http: new HttpAgent({ keepAlive: true, timeout: FREE_SOCKET_TIMEOUT_MS, scheduling: "lifo" }),
    https: new HttpsAgent({ keepAlive: true, timeout: FREE_SOCKET_TIMEOUT_MS, scheduling: "lifo" }),
  };
  return agents;
}

/** The default transport: node:http(s) with a shared keep-alive agent, to `baseUrl` (no trailing slash). */
export function nodeExchange(baseUrl: string): Exchanger {
  const base = new URL(baseUrl);
  const secure = base.protocol === "https:";
  if (!secure && base.protocol !== "http:") throw new TypeError(`unsupported protocol ${base.protocol}`);
  const send = secure ? httpsRequest : httpRequest;
  const host = base.hostname.startsWith("[") ? base.hostname.slice(1, -1) : base.hostname;
  const port = base.port === "" ? (secure ? 443 : 80) : Number(base.port);
  const prefix = base.pathname.replace(/\/+$/, "");

  return (req, timeoutMs) =>
    new Promise<Exchange>((resolve) => {
      let status: number | undefined;
      let settled = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = (exchange: Exchange) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(exchange);
      };
      const headers: OutgoingHttpHeaders = req.headers;
      if (req.body !== undefined) headers["content-length"] = Buffer.byteLength(req.body);
      let outgoing: ReturnType<typeof send>;
      try {
        outgoing = start();
      } catch (cause) {
        // A header node:http refuses (a token with characters no header may carry), as fetch's TypeError.
        finish({ kind: "network", status, cause });
        return;
      }
      timer = setTimeout(() => {
        finish({ kind: "timeout", status });
        outgoing.destroy();
      }, timeoutMs);
      outgoing.on("error", (cause) => finish({ kind: "network", status, cause }));
      outgoing.end(req.body);

      function start() {
        return send(
          {
            host,
            port,
            method: req.method,
            path: `${prefix}${req.path}`,
            headers,
            agent: secure ? sharedAgents().https : sharedAgents().http,
            servername: secure ? host : undefined,
          },
          (res: IncomingMessage) => {
            status = res.statusCode;
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("end", () => {
              finish({
                kind: "answered",
                status: status ?? 0,
                text: (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)).toString("utf8"),
              });
            });
            // A connection dropped mid-body: "aborted" then "error" (ECONNRESET) on the response.
            res.on("error", (cause) => finish({ kind: "network", status, cause }));
            res.on("aborted", () =>
              finish({ kind: "network", status, cause: new Error("response aborted") }),
            );
          },
        );
      }
    });
}

const TIMED_OUT = Symbol("timed out");

/** A caller's `fetch` to `baseUrl`, bounded by the timeout even if `fetch` ignores the abort signal. */
export function fetchExchange(baseUrl: string, fetchFn: typeof fetch): Exchanger {
  return async (req, timeoutMs) => {
    const url = `${baseUrl}${req.path}`;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let expired = false;
    const timedOut = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => {
        expired = true;
        resolve(TIMED_OUT);
        controller.abort(new DOMException("PortOne request timed out", "TimeoutError"));
      }, timeoutMs);
    });
    const init: RequestInit = {
      method: req.method,
      headers: req.headers,
      signal: controller.signal,
      redirect: "manual",
    };
    if (req.body !== undefined) init.body = req.body;
    let status: number | undefined;
    try {
      const fetched = fetchFn(url, init);
      // When the timer wins, the losing promise may still reject later: handled, not leaked.
      fetched.catch(() => {});
      const response = await Promise.race([fetched, timedOut]);
      if (response === TIMED_OUT) return { kind: "timeout", status };
      status = response.status;
      const reading = response.text();
      reading.catch(() => {});
      const text = await Promise.race([reading, timedOut]);
      if (text === TIMED_OUT) return { kind: "timeout", status };
      return { kind: "answered", status, text };
    } catch (cause) {
      // The abort makes fetch reject too; whichever settles first, it was the timeout.
      if (expired) return { kind: "timeout", status };
      return { kind: "network", status, cause };
    } finally {
      clearTimeout(timer);
    }
  };
}
