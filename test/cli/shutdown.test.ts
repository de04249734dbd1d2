/**
 * Graceful shutdown of the real process: a SIGTERM while 20 completions are in flight (each held
 * 700 ms upstream) loses none of them; the process exits 0; after a restart every one reads verified.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";

const dir = mkdtempSync(join(tmpdir(), "certgate-shutdown-"));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

const API_KEY = "shutdown_test_api_key_0001";

/** Starts `certgate serve` and resolves with its URL once it logs that it is serving. */
function serve(): Promise<{ child: ChildProcess; url: string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "serve"], {
    env: { PATH: process.env.PATH ?? "", PORT: "0", CERTGATE_DATA_DIR: dir, CERTGATE_API_KEYS: API_KEY },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += String(chunk);
      const line = out.split("\n").find((l) => l.includes('"certgate is serving"'));
      if (line) resolve({ child, url: z.object({ url: z.string() }).parse(JSON.parse(line)).url, exited });
    });
    child.once("exit", (code) => reject(new Error(`certgate exited early (${code})`)));
  });
}

describe("graceful shutdown", () => {
  it("a SIGTERM during 20 in-flight completions loses none of them", { timeout: 60_000 }, async () => {
    const { child, url, exited } = await serve();
    const auth = { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" };
    const json = { "content-type": "application/json" };
    const post = async (path: string, headers: Record<string, string>, body: unknown) =>
      fetch(`${url}${path}`, { method: "POST", headers, body: JSON.stringify(body) });

    const prepared = [];
    for (let i = 0; i < 20; i++) {
      const created = z
        .object({ id: z.string(), merchant_uid: z.string() })
        .parse(await (await post("/api/verifications", auth, {})).json());
      const record = z.object({ imp_uid: z.string() }).parse(
        await (
          await post("/emulator/__admin/certifications", json, {
            persona: "adult",
            merchant_uid: created.merchant_uid,
          })
        ).json(),
      );
      prepared.push({ ...created, imp_uid: record.imp_uid });
    }
    const fault = await post("/emulator/__admin/faults", json, {
      route: "getCertification",
      kind: "latency",
      latency_ms: 700,
    });
    expect(fault.status).toBe(201);

    const inFlight = prepared.map((v) =>
      post("/certifications", json, { imp_uid: v.imp_uid, merchant_uid: v.merchant_uid }).then(
        (r) => r.status,
      ),
    );
    await new Promise((r) => setTimeout(r, 250));
    child.kill("SIGTERM");
    expect(await Promise.all(inFlight)).toEqual(Array(20).fill(200));
    expect(await exited).toBe(0);

    const again = await serve();
    for (const v of prepared) {
      const res = await fetch(`${again.url}/api/verifications/${v.id}`, { headers: auth });
      expect(
        z.object({ verification: z.object({ status: z.string() }) }).parse(await res.json()).verification
          .status,
      ).toBe("verified");
    }
    again.child.kill("SIGTERM");
    expect(await again.exited).toBe(0);
  });
});
