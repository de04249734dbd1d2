/**
 * Mounting certgate in an existing Node app (Express, Fastify's middie, plain `http`): the Hono app
 * as a `(req, res)` listener. Express strips its mount path from `req.url`, so
 * `app.use("/certgate", toNodeHandler(certgate.app))` serves `/certgate/certifications` and so on.
 *
 * @example
 * const certgate = await startCertgate(config, { logger, listen: false });
 * expressApp.use("/certgate", toNodeHandler(certgate.app));
 *
 * Also `answerClientErrors`, for the server certgate itself listens on (server.ts).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { getRequestListener } from "@hono/node-server";
import type { Hono } from "hono";
import { clientErrorAnswer } from "./responses.js";

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
