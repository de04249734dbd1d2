/**
 * /metrics through the composed service (sandbox mode): Prometheus text that parses, counters that
 * move with a verification, and no personal data in any label.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { loadConfig } from "../../src/cli/config.js";
import { createLogger } from "../../src/cli/logger.js";
import { PERSONAS } from "../../src/emulator/index.js";
import { type Certgate, SANDBOX_API_KEY, startCertgate } from "../../src/server.js";

/**
 * A strict reader of the Prometheus text format: every sample line must parse. Values follow Go's
 * ParseFloat, which Prometheus uses, so "Nan" (prom-client's spelling) is a NaN.
 */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const sample =
    /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|[Nn]a[Nn]|[+-]Inf)$/;
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
    const m = sample.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    samples.set(`${m[1]}${m[2] ?? ""}`, Number(m[3]));
  }
  return samples;
}

describe("metrics", () => {
  let dir: string;
  let certgate: Certgate;
  const auth = { authorization: `Bearer ${SANDBOX_API_KEY}`, "content-type": "application/json" };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "certgate-metrics-"));
    const logger = createLogger(new Writable({ write: (_c, _e, done) => done() }));
    certgate = await startCertgate(loadConfig({ PORT: "0", CERTGATE_DATA_DIR: dir }), { logger });
  });
  afterAll(async () => {
    await certgate?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function scrape() {
    const res = await fetch(`${certgate.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    return { text, samples: parsePrometheus(text) };
  }

  async function verifyOnce(persona: "adult" | "minor", policy: Record<string, unknown>) {
    const post = (path: string, headers: Record<string, string>, body: unknown) =>
      fetch(`${certgate.url}${path}`, { method: "POST", headers, body: JSON.stringify(body) }).then((r) =>
        r.json(),
      );
    const created = z
      .object({ merchant_uid: z.string() })
      .parse(await post("/api/verifications", auth, { policy }));
    const json = { "content-type": "application/json" };
    const record = z
      .object({ imp_uid: z.string() })
      .parse(
        await post("/emulator/__admin/certifications", json, { persona, merchant_uid: created.merchant_uid }),
      );
    await post("/certifications", json, { imp_uid: record.imp_uid, merchant_uid: created.merchant_uid });
  }

  it("parses as Prometheus text and its counters move with verifications", async () => {
    const verified = 'certgate_verifications_total{api_version="v1",status="verified",reason=""}';
    const underage = 'certgate_verifications_total{api_version="v1",status="rejected",reason="underage"}';
    const before = (await scrape()).samples;
    await verifyOnce("adult", {});
    await verifyOnce("minor", { min_age: 19, age_rule: "year" });
    const { samples, text } = await scrape();
    expect((samples.get(verified) ?? 0) - (before.get(verified) ?? 0)).toBe(1);
    expect((samples.get(underage) ?? 0) - (before.get(underage) ?? 0)).toBe(1);
    expect(samples.get('certgate_upstream_token_refreshes_total{reason="cold"}')).toBe(1);
    expect(
      samples.get('certgate_upstream_request_duration_seconds_count{route="getCertification",status="200"}'),
    ).toBe(2);
    expect(
      samples.get('certgate_db_operation_duration_seconds_count{operation="completeVerification"}'),
    ).toBe(2);
    // No personal data in any label or value.
    for (const persona of [PERSONAS.adult, PERSONAS.minor]) {
      expect(text).not.toContain(persona.name);
      expect(text).not.toContain(persona.phone);
    }
    expect(text).not.toMatch(/imp_\d{12}|mid_|ver_/);
  });
});
