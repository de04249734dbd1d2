/**
 * The Node transport of portone/transport.ts: `node:http` / `node:https` through one keep-alive
 * agent per protocol, shared by every client in the process (see transport.ts for why). Apart
 * from transport.ts so that `certgate/portone` imports no Node module.
 */
import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { type Exchange, type Exchanger, MAX_RESPONSE_BYTES } from "./transport.js";

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
            let length = 0;
            res.on("data", (chunk: Buffer) => {
              length += chunk.length;
              if (length <= MAX_RESPONSE_BYTES) {
                chunks.push(chunk);
                return;
              }
              // Not PortOne's answer (transport.ts): stop reading, and drop the connection with it.
              finish({ kind: "too_large", status: status ?? 0 });
              res.destroy();
              outgoing.destroy();
            });
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
