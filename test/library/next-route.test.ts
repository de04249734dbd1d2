/**
 * certgate behind Next.js-style route handlers, `(req: Request) => Response`: the catch-all route
 * `app/api/certgate/[...path]/route.ts` hands the request to `app.fetch` with the full path, so the
 * app is built with `basePath: "/api/certgate"`; the merchant's own route handlers answer errors
 * with `errorToResponse`. A tiny router stands in for Next's file-system routing, on a real socket
 * (hosts.ts has the suite).
 */
import type { Server } from "node:http";
import { createAdaptorServer } from "@hono/node-server";
import { describe, expect, it } from "vitest";
import {
  ConfigError,
  createHttpApp,
  errorToResponse,
  type HttpAppOptions,
  RequestError,
} from "../../src/index.js";
import { describeHost, listenOn, type OwnRoutes } from "./hosts.js";

/** A route handler of the merchant's: `run` on the JSON body, errors through certgate's mapper. */
function routeHandler(run: (body: unknown) => Promise<unknown>, status = 200) {
  return async (req: Request): Promise<Response> => {
    try {
      const body = await req.json().catch(() => {
        throw new RequestError("invalid_json", "the body is not valid JSON");
      });
      return Response.json(await run(body), { status });
    } catch (err) {
      return errorToResponse(err);
    }
  };
}

function nextLikeRouter(certgate: { fetch(req: Request): Response | Promise<Response> }, own: OwnRoutes) {
  // app/api/certgate/[...path]/route.ts: export const GET = handler, POST = handler, DELETE = handler.
  const certgateRoute = (req: Request) => certgate.fetch(req);
  const routes: Record<string, (req: Request) => Promise<Response>> = {
    "/signup/start": routeHandler(own.start, 201), // app/signup/start/route.ts: export const POST
    "/signup/verify": routeHandler(own.verify), // app/signup/verify/route.ts: export const POST
  };
  return async (req: Request): Promise<Response> => {
    const { pathname } = new URL(req.url);
    if (pathname.startsWith("/api/certgate/")) return certgateRoute(req);
    return routes[pathname]?.(req) ?? new Response("not found", { status: 404 });
  };
}

describeHost("a Next.js-style route handler", { mount: "/api/certgate", basePath: true }, async (parts) =>
  listenOn(createAdaptorServer({ fetch: nextLikeRouter(parts.certgate, parts.own) }) as Server),
);

describe("createHttpApp's basePath", () => {
  const options = (basePath: string): HttpAppOptions => ({
    // Never called: these requests are answered by the routing alone. (createVerificationService
    // refuses a store without a store's methods, so none is built for them.)
    service: {} as never,
    apiKeys: [],
    returnOrigins: [],
    sandbox: false,
    sdk: { impCode: "imp00000000" },
    logger: { info() {}, warn() {}, error() {} },
    basePath,
  });

  it("serves every route under the prefix and nothing outside it (a JSON 404)", async () => {
    const app = createHttpApp(options("/api/certgate"));
    expect((await app.request("/api/certgate/healthz")).status).toBe(200);
    const outside = await app.request("/healthz");
    expect([outside.status, await outside.json()]).toEqual([
      404,
      { error: { code: "not_found", message: "no such route" } },
    ]);
    // A wrong method under the prefix is a 405; outside it, still no such route.
    const wrongMethod = await app.request("/api/certgate/certifications", { method: "GET" });
    expect([wrongMethod.status, wrongMethod.headers.get("allow")]).toEqual([405, "POST"]);
    expect((await app.request("/certifications", { method: "GET" })).status).toBe(404);
  });

  it.each(["certgate", "/certgate/", "/a//b", "/a b", "/a?x=1"])(
    "refuses %j as a ConfigError",
    (basePath) => {
      expect(() => createHttpApp(options(basePath))).toThrow(ConfigError);
    },
  );
});
