/**
 * Mounting certgate in an existing Node app (Express, Fastify's middie, plain `http`): the Hono app
 * as a `(req, res)` listener. Express strips its mount path from `req.url`, so
 * `app.use("/certgate", toNodeHandler(certgate.app))` serves `/certgate/certifications` and so on.
 *
 * @example
 * const certgate = await startCertgate(config, { logger, listen: false });
 * expressApp.use("/certgate", toNodeHandler(certgate.app));
 *
 * Also what the server certgate itself listens on needs (server.ts): {@link configureListener} and
 * {@link closeGracefully}.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { getRequestListener, RequestError as ListenerRequestError } from "@hono/node-server";
import type { Hono } from "hono";
import { clientErrorAnswer, clientErrorBody } from "./responses.js";

/**
 * `app` as a Node `(req, res)` listener, to mount certgate inside Express, Fastify or `http.createServer`.
 * @example expressApp.use("/certgate", toNodeHandler(createHttpApp(options)));
 */
export function toNodeHandler(app: Hono): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return getRequestListener(app.fetch);
}

/**
 * Node's own refusals — a malformed request line or header, headers over its 16 KB limit, a
 * request too slow to arrive — answered on `server` as certgate answers, with a JSON error and a
 * stable code (responses.ts {@link clientErrorAnswer}), where Node wrote a bare status line.
 */
export function answerClientErrors(server: {
  on(event: "clientError", listener: (error: NodeJS.ErrnoException, socket: Duplex) => void): unknown;
}): void {
  server.on("clientError", (error, socket) => {
    // As Node's own answer: none into a socket that cannot take it, nor into the middle of a
    // response whose headers are out already (a pipelined request's); the socket is only closed.
    const answering = (socket as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
    if (error.code === "ECONNRESET" || !socket.writable || answering?.headersSent === true) {
      socket.destroy();
      return;
    }
    socket.end(clientErrorAnswer(error.code));
  });
}

/**
 * The server certgate listens on, set up as certgate answers: Node's own refusals as JSON
 * ({@link answerClientErrors}), and no limit on the number of header lines. Node keeps the first
 * 2,000 and drops the rest without a word, an Idempotency-Key after them included, so a retried
 * creation made a second verification; the header block stays bounded by its size (Node's max
 * header size, then 431).
 */
export function configureListener(server: Parameters<typeof answerClientErrors>[0]): void {
  answerClientErrors(server);
  if ("maxHeadersCount" in server) (server as Server).maxHeadersCount = 0;
}

/**
 * The default grace of {@link closeGracefully} (StartOptions.shutdownGraceMs): longer than a
 * completion can take (the PortOne call's 5 s timeout and its retry, then one transaction), shorter
 * than the 30 s an orchestrator usually waits after SIGTERM before it kills the process. A request
 * still unanswered at the deadline loses its connection; its transaction, if one had begun,
 * committed whole or not at all, and the client asks again.
 */
export const SHUTDOWN_GRACE_MS = 20_000;

/**
 * Stops accepting, lets the requests in flight finish, and resolves once every connection is
 * closed: each keep-alive connection as soon as its request is answered (they would otherwise hold
 * `close()` open until their idle timeout), and, after `graceMs`, whatever is still open (a
 * half-sent request, a stalled client). Without that deadline one client could keep a SIGTERM'd
 * process alive as long as it liked: `server.close()` also stops Node's request timeouts.
 */
export function closeGracefully(server: object, graceMs: number): Promise<void> {
  const http = server as Partial<Pick<Server, "closeIdleConnections" | "closeAllConnections">> &
    Pick<Server, "close">;
  return new Promise<void>((resolve) => {
    const sweep = setInterval(() => http.closeIdleConnections?.(), 50);
    const deadline = setTimeout(() => http.closeAllConnections?.(), graceMs);
    http.close(() => {
      clearInterval(sweep);
      clearTimeout(deadline);
      resolve();
    });
    http.closeIdleConnections?.();
  });
}

/**
 * The HTTP server `certgate serve` listens with: `fetch` behind @hono/node-server's request
 * listener, as its `serve()` would build it, plus certgate's JSON error for the requests that
 * listener or Node refuses before any route sees them, where they got an empty 400 or a closed
 * socket: an HTTP/1.1 request without `Host` (Node's own check, turned off for this), a target that
 * is neither a path nor an absolute http(s) URL (`GET *`, `OPTIONS *`) or a Host header that is no
 * host, and `CONNECT`, which certgate does not serve (405). Not listening yet: call `listen`.
 */
export function createHttpServer(
  fetch: (request: Request, env: unknown) => Response | Promise<Response>,
  hostname: string,
): Server {
  const listener = getRequestListener(fetch, {
    hostname,
    // The listener's own refusals (the target or Host it cannot make a URL of) come here as its
    // RequestError; so does a rejection of `fetch`, which is a fault of the server, not of the
    // request (the app answers its own errors, so none is expected): a 500, never this 400.
    errorHandler: (error) =>
      error instanceof ListenerRequestError
        ? jsonError(400, "invalid_request", "the request's target or Host header is not valid")
        : jsonError(500, "internal_error", "internal error"),
  });
  const server = createServer({ requireHostHeader: false }, (req, res) => {
    // HTTP/1.1 requires Host (RFC 9112 §3.2); Node's check answered it with an empty 400.
    if (req.httpVersion === "1.1" && req.headers.host === undefined) {
      const { status, body } = clientErrorBody("MISSING_HOST");
      res
        .writeHead(status, {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          connection: "close",
        })
        .end(body);
      return;
    }
    void listener(req, res);
  });
  server.on("connect", (_req: IncomingMessage, socket: Duplex) => {
    // Node takes its own error listener off the socket it hands here: a client that resets the
    // connection made an unhandled 'error' event, which ends the process.
    socket.on("error", () => socket.destroy());
    socket.end(clientErrorAnswer("CONNECT"));
  });
  return server;
}

function jsonError(status: number, code: string, message: string): Response {
  return new Response(JSON.stringify({ error: { code, message } }), {
    status,
    headers: { "content-type": "application/json" },
  });
}
