/**
 * answerClientErrors on a bare node:http server: Node's parser refusal answered with certgate's JSON
 * error, except into the middle of a response whose headers are out, which is only closed.
 */
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { answerClientErrors } from "../../src/http/node-handler.js";

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** A server whose response writes its head and a first chunk, then waits `holdMs` to finish. */
async function listen(holdMs: number): Promise<number> {
  server = createServer((_, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.write("first,");
    setTimeout(() => res.end("last"), holdMs);
  });
  answerClientErrors(server);
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** Everything the server sends on one connection to `chunks`, sent one after another. */
function exchange(port: number, chunks: string[], gapMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", async () => {
      for (const chunk of chunks) {
        socket.write(chunk);
        await new Promise((r) => setTimeout(r, gapMs));
      }
    });
    let text = "";
    socket.on("data", (data: Buffer) => {
      text += data.toString();
    });
    socket.on("close", () => resolve(text));
    socket.on("error", reject);
  });
}

describe("answerClientErrors", () => {
  it("answers a malformed request alone on its connection with the JSON error", async () => {
    const port = await listen(0);
    const text = await exchange(port, ["NOT HTTP AT ALL\r\n\r\n"], 0);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toContain('"code":"invalid_request"');
  });

  it("writes nothing into a response already under way: the connection is only closed", async () => {
    const port = await listen(300);
    const text = await exchange(port, ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", "BROKEN LINE\r\n\r\n"], 100);
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text).toContain("first,");
    expect(text).not.toContain("invalid_request");
    expect(text).not.toMatch(/HTTP\/1\.1 400/);
  });
});
