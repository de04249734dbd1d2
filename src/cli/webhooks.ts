/**
 * `certgate webhooks list | replay`: the outbox for an operator whose receiver was down. `list`
 * prints one JSON line per event (id, type, verification id, times, delivery state: never the
 * payload, which anyway carries ids and decisions only); `replay` makes events due again, for the
 * running service's dispatcher to deliver (receivers deduplicate on `webhook-id`, which stays the
 * event's id).
 */
import { parseArgs } from "node:util";
import type { Config } from "../config.js";
import type { Store } from "../core/store.js";
import { openStoreOrExplain } from "../startup-errors.js";
import { createKeyring } from "../store/crypto.js";

export const WEBHOOKS_HELP = `certgate webhooks list [--since <ISO time>] [--limit N]
  Lists outbox events (one JSON line each: id, type, verification_id, created_at, attempts,
  delivered_at, last_status), the N most recent (default 50) or those created since the time.
certgate webhooks replay (--since <ISO time> | --id <evt_…>)
  Makes those events due again, delivered or not: the running service delivers them again under
  the same event id. Prints how many were requeued.`;

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 10_000;

/** What went wrong with the command line: printed with the usage, exit code 2. */
class WebhooksUsageError extends Error {}

/**
 * Runs `certgate webhooks <args>` on the database of `config`; returns the exit code (2 on a
 * usage error, with the message and the usage on `stderr`).
 */
export async function runWebhooksCommand(
  args: readonly string[],
  config: Config,
  out: { stdout: (text: string) => void; stderr: (text: string) => void } = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  },
): Promise<number> {
  let command: { run(store: Store): Promise<void> };
  try {
    command = parseCommand(args, out.stdout);
  } catch (error) {
    if (!(error instanceof WebhooksUsageError)) throw error;
    out.stderr(`certgate webhooks: ${error.message}\n\n${WEBHOOKS_HELP}\n`);
    return 2;
  }
  // Listing and requeueing neither hash nor decrypt: a placeholder key serves without a secret.
  const store = await openStoreOrExplain(
    config.databaseUrl,
    createKeyring({ secret: config.secret ?? "maintenance-commands-use-no-key-0000" }),
  );
  try {
    await command.run(store);
  } finally {
    await store.close();
  }
  return 0;
}

function parseCommand(args: readonly string[], print: (text: string) => void) {
  const [sub, ...rest] = args;
  let values: { since?: string | undefined; limit?: string | undefined; id?: string | undefined };
  try {
    ({ values } = parseArgs({
      args: [...rest],
      strict: true,
      allowPositionals: false,
      options: { since: { type: "string" }, limit: { type: "string" }, id: { type: "string" } },
    }));
  } catch (error) {
    // parseArgs names the option, never a value.
    throw new WebhooksUsageError(error instanceof Error ? error.message : "bad arguments");
  }
  if (sub === "list" && values.id !== undefined) throw new WebhooksUsageError("list takes no --id");
  if (sub === "replay" && values.limit !== undefined) throw new WebhooksUsageError("replay takes no --limit");
  const since = values.since === undefined ? undefined : instant(values.since);
  if (sub === "list") {
    const limit = values.limit === undefined ? DEFAULT_LIMIT : count(values.limit);
    return {
      async run(store: Store) {
        for (const e of await store.listWebhookEvents({ since, limit })) {
          print(
            `${JSON.stringify({
              id: e.id,
              type: e.type,
              verification_id: e.verificationId,
              created_at: e.createdAt.toISOString(),
              attempts: e.attempts,
              delivered_at: e.deliveredAt?.toISOString() ?? null,
              last_status: e.lastStatus ?? null,
            })}\n`,
          );
        }
      },
    };
  }
  if (sub === "replay") {
    const id = values.id;
    if ((id === undefined) === (since === undefined)) {
      throw new WebhooksUsageError("replay takes exactly one of --since and --id");
    }
    if (id !== undefined && !/^evt_[A-Za-z0-9_-]{1,64}$/.test(id)) {
      throw new WebhooksUsageError("--id must be an event id (evt_…)");
    }
    return {
      async run(store: Store) {
        const requeued = await store.requeueWebhookEvents({ id, since });
        print(`requeued ${requeued} event${requeued === 1 ? "" : "s"}\n`);
      },
    };
  }
  throw new WebhooksUsageError(sub === undefined ? "list or replay?" : `unknown subcommand "${sub}"`);
}

function instant(text: string): Date {
  // An ISO 8601 date or date-time; a bare date is midnight UTC.
  const at = /^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)
    ? new Date(text)
    : undefined;
  if (at === undefined || Number.isNaN(at.getTime())) {
    throw new WebhooksUsageError("--since must be an ISO 8601 time, e.g. 2026-06-15T03:00:00Z");
  }
  return at;
}

function count(text: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 1 && n <= MAX_LIMIT)) throw new WebhooksUsageError(`--limit must be from 1 to ${MAX_LIMIT}`);
  return n;
}
