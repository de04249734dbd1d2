/**
 * certgate inside a merchant's Hono app: `app.mount("/certgate", certgate.fetch)` hands it every
 * path under the mount (its own JSON 404 included, where `app.route` gave Hono's plain-text one),
 * the merchant's own routes call the service and `onError` answers through `errorToResponse`
 * (hosts.ts has the suite).
 */
import type { Server } from "node:http";
import { createAdaptorServer } from "@hono/node-server";
import { Hono } from "hono";
import { errorToResponse, RequestError } from "../../src/index.js";
import { describeHost, listenOn } from "./hosts.js";

/** The body as JSON; Hono's `c.req.json()` rejects a malformed one with a bare SyntaxError. */
const readJson = (req: Request) =>
  req.json().catch(() => {
    throw new RequestError("invalid_json", "the body is not valid JSON");
  });

describeHost("Hono", { mount: "/certgate" }, async ({ certgate, own }) => {
  const app = new Hono();
  app.mount("/certgate", certgate.fetch);
  app.post("/signup/start", async (c) => c.json(await own.start(await readJson(c.req.raw)), 201));
  app.post("/signup/verify", async (c) => c.json(await own.verify(await readJson(c.req.raw))));
  app.onError((err) => errorToResponse(err));
  return listenOn(createAdaptorServer({ fetch: app.fetch }) as Server);
});
