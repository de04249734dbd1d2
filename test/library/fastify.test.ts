/**
 * certgate inside a merchant's Fastify app: `@fastify/middie` mounts its routes with
 * `fastify.use("/certgate", toNodeHandler(certgate))`, the merchant's own routes are native Fastify
 * handlers calling the service, and `setErrorHandler` answers through `toErrorResponse`
 * (hosts.ts has the suite).
 */
import middie from "@fastify/middie";
import Fastify from "fastify";
import { toErrorResponse, toNodeHandler } from "../../src/index.js";
import { describeHost } from "./hosts.js";

describeHost("Fastify", { mount: "/certgate" }, async ({ certgate, own }) => {
  const app = Fastify();
  await app.register(middie);
  app.use("/certgate", toNodeHandler(certgate));
  app.post("/signup/start", async (req, reply) => reply.status(201).send(await own.start(req.body)));
  app.post("/signup/verify", async (req) => own.verify(req.body));
  // Fastify's own refusals (a body that is not JSON) arrive here too.
  app.setErrorHandler((err, _req, reply) => {
    const { status, headers, body } = toErrorResponse(err);
    return reply.status(status).headers(headers).send(body);
  });
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  return { url, close: () => app.close() };
});
