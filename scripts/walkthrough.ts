/**
 * `npm run walkthrough`: the README's walkthrough as a program, against the sandbox at
 * CERTGATE_URL or http://127.0.0.1:${PORT:-3000} (`npm start`); when nothing answers there, against
 * a sandbox of its own on a free port, for the run. Signs up user-1 with the `adult` persona, reads
 * the outcome, then signs up user-2 with the same person: a `duplicate_account`. Exits 0 when both
 * outcomes are the expected ones, 1 otherwise.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../src/cli/config.js";
import { createLogger } from "../src/cli/logger.js";
import { SANDBOX_API_KEY, startCertgate } from "../src/server.js";

const KEY = { authorization: `Bearer ${SANDBOX_API_KEY}` };
const JSON_TYPE = { "content-type": "application/json" };

async function isUp(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) })).ok;
  } catch {
    return false;
  }
}

async function call(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  console.log(`${method} ${path} → ${res.status}\n  ${text}`);
  return { status: res.status, json: JSON.parse(text) as Record<string, unknown> };
}

async function signUp(url: string, accountRef: string) {
  console.log(`\n# ${accountRef}: 1. your backend creates a verification (19+ by year age)`);
  const created = await call(
    url,
    "POST",
    "/api/verifications",
    { ...KEY, ...JSON_TYPE },
    {
      account_ref: accountRef,
      policy: { min_age: 19, age_rule: "year" },
    },
  );
  if (created.status === 401)
    throw new Error(`${url} is not a certgate in sandbox mode (the sandbox key was refused)`);
  const { id, merchant_uid } = created.json as { id: string; merchant_uid: string };
  console.log(
    `# ${accountRef}: 2. the emulator plays the person: an "adult" record bound to ${merchant_uid}`,
  );
  const record = await call(url, "POST", "/emulator/__admin/certifications", JSON_TYPE, {
    persona: "adult",
    merchant_uid,
  });
  const { imp_uid } = record.json as { imp_uid: string };
  console.log(`# ${accountRef}: 3. the browser posts the result to certgate`);
  const completed = await call(url, "POST", "/certifications", JSON_TYPE, { imp_uid, merchant_uid });
  return { id, completed };
}

async function main(): Promise<number> {
  let url = process.env.CERTGATE_URL ?? `http://127.0.0.1:${process.env.PORT ?? "3000"}`;
  let stop = async () => {};
  if (await isUp(url)) {
    console.log(`Walkthrough against the certgate at ${url}`);
  } else {
    const dir = mkdtempSync(join(tmpdir(), "certgate-walkthrough-"));
    const certgate = await startCertgate(loadConfig({ PORT: "0", CERTGATE_DATA_DIR: dir }), {
      logger: createLogger(undefined, "silent"),
    });
    console.log(
      `Nothing answers at ${url}: started a sandbox of its own at ${certgate.url} for this walkthrough`,
    );
    url = certgate.url;
    stop = async () => {
      await certgate.close();
      rmSync(dir, { recursive: true, force: true });
    };
  }
  try {
    const first = await signUp(url, "user-1");
    console.log("# user-1: 4. your backend reads the outcome");
    await call(url, "GET", `/api/verifications/${first.id}`, KEY);
    const second = await signUp(url, "user-2");
    const verified = (first.completed.json.verification as { status?: string } | undefined)?.status;
    const duplicate = second.completed.json.verification as {
      reason?: string;
      existing_account_ref?: string;
    };
    const ok =
      first.completed.status === 200 &&
      verified === "verified" &&
      second.completed.status === 422 &&
      duplicate?.reason === "duplicate_account" &&
      duplicate.existing_account_ref === "user-1";
    console.log(
      ok
        ? "\nuser-1 is verified; the same person as user-2 is refused as duplicate_account (existing_account_ref user-1)."
        : "\nUnexpected outcomes: user-1 should be verified and user-2 a duplicate_account of user-1.",
    );
    return ok ? 0 : 1;
  } finally {
    await stop();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`walkthrough: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
