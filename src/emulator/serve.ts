/**
 * Serves an emulator over a real socket with @hono/node-server.
 */
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import type { Emulator } from "./app.js";

/**
 * A running emulator server.
 *
 * @example
 * import { createEmulator, type ServedEmulator, serveEmulator } from "certgate/emulator";
 * const served: ServedEmulator = await serveEmulator(createEmulator(), { port: 4010 });
 * console.log(served.url); // http://127.0.0.1:4010
 * await served.close();
 */
export interface ServedEmulator {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Stops listening and closes idle and active connections, so a test run ends promptly. */
  close(): Promise<void>;
}

/**
 * Listens on `hostname` (default 127.0.0.1) and `port` (default 0: a free port). Connections are
 * keep-alive capable; a `drop` fault destroys the request's socket.
 *
 * @example
 * const server = await serveEmulator(createEmulator({ admin: true }));
 * const res = await fetch(`${server.url}/certifications/imp_000000000000`);
 * await server.close();
 */
export function serveEmulator(
  emulator: Emulator,
  options: { port?: number; hostname?: string } = {},
): Promise<ServedEmulator> {
  const hostname = options.hostname ?? "127.0.0.1";
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: emulator.app.fetch, port: options.port ?? 0, hostname }, (info) => {
      server.off("error", reject);
      const host = hostname.includes(":") ? `[${hostname}]` : hostname;
      resolve({ url: `http://${host}:${info.port}`, close: () => closeServer(server as Server) });
    });
    server.once("error", reject);
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
