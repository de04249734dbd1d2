/**
 * deploy/grafana/certgate.json queries what certgate exposes: every metric its PromQL names is a
 * family of a real /metrics scrape of a running service (after a verified and a rejected
 * verification, so the counters have samples), and every label it selects or groups by is a label
 * of that family's samples (`job` and `instance` are Prometheus's, `le` the histograms'). The
 * webhook backlog gauge it charts counts the events waiting in the outbox.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { loadConfig } from "../../src/cli/config.js";
import { createLogger } from "../../src/cli/logger.js";
import { type Certgate, SANDBOX_API_KEY, startCertgate } from "../../src/server.js";
import { freePort } from "../reliability/own-postgres.js";

const dashboard = z
  .object({
    uid: z.string(),
    panels: z.array(
      z.object({
        id: z.number(),
        type: z.string(),
        targets: z.array(z.object({ expr: z.string() })).optional(),
      }),
    ),
  })
  .parse(JSON.parse(readFileSync("deploy/grafana/certgate.json", "utf8")));
const SCRAPER_LABELS = new Set(["job", "instance", "le"]);

/** The families of a scrape (`# TYPE name kind`) and the label names each one's samples carry. */
function families(text: string): Map<string, { kind: string; labels: Set<string> }> {
  const found = new Map<string, { kind: string; labels: Set<string> }>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm))
    found.set(m[1] ?? "", { kind: m[2] ?? "", labels: new Set() });
  for (const m of text.matchAll(/^([a-zA-Z_:][\w:]*)\{([^}]*)\}/gm)) {
    const family = found.get(m[1] ?? "") ?? found.get((m[1] ?? "").replace(/_(bucket|count|sum)$/, ""));
    for (const label of (m[2] ?? "").matchAll(/([a-zA-Z_]\w*)="/g)) family?.labels.add(label[1] ?? "");
  }
  return found;
}

describe("the Grafana dashboard", () => {
  let dir: string;
  let certgate: Certgate;
  let scrape: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "certgate-grafana-"));
    const config = loadConfig({
      PORT: "0",
      CERTGATE_DATA_DIR: dir,
      // Webhooks on, delivery off: each outcome's event stays in the outbox, the backlog.
      CERTGATE_WEBHOOK_URL: `http://127.0.0.1:${await freePort()}/hooks`,
      CERTGATE_WEBHOOK_SECRET: "grafana-test-webhook-secret-000000",
    });
    certgate = await startCertgate(config, {
      logger: createLogger(undefined, "silent"),
      deliverWebhooks: false,
    });
    const json = { "content-type": "application/json" };
    const post = async (path: string, headers: Record<string, string>, body: unknown) =>
      (await fetch(`${certgate.url}${path}`, { method: "POST", headers, body: JSON.stringify(body) })).json();
    for (const persona of ["adult", "minor"]) {
      const created = z.object({ merchant_uid: z.string() }).parse(
        await post(
          "/api/verifications",
          { ...json, authorization: `Bearer ${SANDBOX_API_KEY}` },
          {
            policy: { min_age: 19, age_rule: "year" },
          },
        ),
      );
      const record = z.object({ imp_uid: z.string() }).parse(
        await post("/emulator/__admin/certifications", json, {
          persona,
          merchant_uid: created.merchant_uid,
        }),
      );
      await post("/certifications", json, { imp_uid: record.imp_uid, merchant_uid: created.merchant_uid });
    }
    scrape = await (await fetch(`${certgate.url}/metrics`)).text();
  });
  afterAll(async () => {
    await certgate?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

  it("charts verifications, PortOne latency, token refreshes and the webhook backlog", () => {
    const names = exprs.join("\n");
    for (const family of [
      "certgate_verifications_total",
      "certgate_upstream_request_duration_seconds_bucket",
      "certgate_upstream_token_refreshes_total",
      "certgate_webhook_backlog_events",
    ])
      expect(names).toContain(family);
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
  });

  it("queries only metric families a running certgate exposes", () => {
    const exposed = families(scrape);
    const queried = new Set(
      exprs.flatMap((e) => [...e.matchAll(/\b(certgate_\w+)/g)].map((m) => m[1] ?? "")),
    );
    expect(queried.size).toBeGreaterThan(8);
    for (const name of queried) {
      const family = exposed.get(name) ?? exposed.get(name.replace(/_(bucket|count|sum)$/, ""));
      expect(family, `${name} is in the /metrics scrape`).toBeDefined();
      if (!exposed.has(name)) expect(family?.kind).toBe("histogram");
    }
  });

  it("selects and groups by labels those families carry", () => {
    const exposed = families(scrape);
    for (const expr of exprs) {
      const metrics = [...expr.matchAll(/\b(certgate_\w+)/g)].map(
        (m) => exposed.get(m[1] ?? "") ?? exposed.get((m[1] ?? "").replace(/_(bucket|count|sum)$/, "")),
      );
      const labels = new Set(metrics.flatMap((f) => [...(f?.labels ?? [])]));
      if (labels.size === 0) continue; // a family with no samples yet (store faults): nothing to compare
      const used = [
        ...[...expr.matchAll(/\{([^}]*)\}/g)].flatMap((m) => [
          ...(m[1] ?? "").matchAll(/(\w+)\s*(?:=~|!=|!~|=)/g),
        ]),
        ...[...expr.matchAll(/\bby \(([^)]*)\)/g)].flatMap((m) =>
          (m[1] ?? "").split(",").map((l) => [l, l.trim()]),
        ),
      ].map((m) => (m[1] ?? "").trim());
      for (const label of used.filter((l) => !SCRAPER_LABELS.has(l)))
        expect(labels.has(label), `${label} of ${expr}`).toBe(true);
    }
  });

  it("the webhook backlog gauge counts the events waiting in the outbox", () => {
    expect(scrape).toMatch(/^certgate_webhook_backlog_events 2$/m);
    const age = Number(/^certgate_webhook_backlog_oldest_age_seconds (\S+)$/m.exec(scrape)?.[1]);
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(60);
  });
});
