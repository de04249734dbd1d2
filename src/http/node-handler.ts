/**
 * Mounting certgate in an existing Node app (Express, Fastify's middie, plain `http`): the Hono app
 * as a `(req, res)` listener. Express strips its mount path from `req.url`, so
 * `app.use("/certgate", toNodeHandler(certgate.app))` serves `/certgate/certifications` and so on.
 *
 * @example
 * const certgate = await startCertgate(config, { logger, listen: false });
 * expressApp.use("/certgate", toNodeHandler(certgate.app));
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { getRequestListener } from "@hono/node-server";
import type { Hono } from "hono";

/**
 * `app` as a Node `(req, res)` listener, to mount certgate inside Express, Fastify or `http.createServer`.
 * @example expressApp.use("/certgate", toNodeHandler(createHttpApp(options)));
 */
export function toNodeHandler(app: Hono): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return getRequestListener(app.fetch);
}
