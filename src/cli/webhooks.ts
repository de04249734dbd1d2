/**
 * `certgate webhooks list | replay`: the outbox for an operator whose receiver was down. `list`
 * prints one JSON line per event (id, type, verification id, times, delivery state: never the
 * payload, which anyway carries ids and decisions only); `replay` makes events due again, for the
 * running service's dispatcher to deliver (receivers deduplicate on `webhook-id`, which stays the
 * event's id). Two entries of the command table (command-table.ts).
 */
import type { Store } from "../core/store.js";
import { type Command, type Flag, UsageError, usageLine } from "./command-table.js";
import { loadConfig } from "./config.js";
import { maintenanceKeyring, openExistingStore } from "./existing-database.js";

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 10_000;

const DATABASE: Flag = {
  type: "string",
  value: "URL",
  env: "DATABASE_URL",
  help: "a SQLite path or postgres://… URL",
};
const SINCE: Flag = {
  type: "string",
  value: "TIME",
  help: "events created at or after this RFC 3339 time with its zone, or a date (midnight UTC)",
};

/** Runs `run` on the existing database of `env` (an outbox is never in a database made just now). */
async function withStore<T>(
  env: Record<string, string | undefined>,
  command: string,
  run: (store: Store) => Promise<T>,
): Promise<T> {
  const config = loadConfig(env);
  // Listing and requeueing neither hash nor decrypt: a placeholder key serves without a secret.
  const store = await openExistingStore(config.databaseUrl, maintenanceKeyring(config), command);
  try {
    return await run(store);
  } finally {
    await store.close();
  }
}

/** A command whose own checks of its flags (after parseArgs) report its usage line too. */
function withUsage(command: Command): Command {
  return {
    ...command,
    run: (invocation) =>
      command.run(invocation).catch((error: unknown) => {
        if (error instanceof UsageError && error.usage === undefined) {
          throw new UsageError(error.message, usageLine(command));
        }
        throw error;
      }),
  };
}

const list: Command = {
  name: "webhooks list",
  summary: "list outbox events (ids, types, delivery state; never a payload)",
  description: `Lists outbox events, one JSON line each (id, type, verification_id, created_at, attempts,
delivered_at, last_status): the N most recent (default ${DEFAULT_LIMIT}) or those created since the time.`,
  flags: {
    database: DATABASE,
    since: SINCE,
    limit: { type: "string", value: "N", help: `at most N events (default ${DEFAULT_LIMIT})` },
  },
  async run({ env, flags }) {
    const since = typeof flags.since === "string" ? instant(flags.since) : undefined;
    const limit = typeof flags.limit === "string" ? count(flags.limit) : DEFAULT_LIMIT;
    await withStore(env, "webhooks list", async (store) => {
      for (const e of await store.listWebhookEvents({ since, limit })) {
        process.stdout.write(
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
    });
    return 0;
  },
};

const replay: Command = {
  name: "webhooks replay",
  summary: "requeue outbox events for the running service to deliver again",
  description: `Makes events due again, delivered or not (exactly one of --since and --id): the running
service delivers them again under the same event id. Prints how many were requeued.`,
  flags: {
    database: DATABASE,
    since: SINCE,
    id: { type: "string", value: "EVENT", help: "the one event evt_… to requeue" },
  },
  async run({ env, flags }) {
    const id = typeof flags.id === "string" ? flags.id : undefined;
    const since = typeof flags.since === "string" ? instant(flags.since) : undefined;
    if ((id === undefined) === (since === undefined)) {
      throw new UsageError("replay takes exactly one of --since and --id");
    }
    if (id !== undefined && !/^evt_[A-Za-z0-9_-]{1,64}$/.test(id)) {
      throw new UsageError("--id must be an event id (evt_…)");
    }
    const requeued = await withStore(env, "webhooks replay", (store) =>
      store.requeueWebhookEvents({ id, since }),
    );
    // An id that names no event is a mistake (a typo), not a replay of nothing: `--since` with
    // nothing after it is one.
    if (id !== undefined && requeued === 0) {
      process.stderr.write(`certgate: no webhook event ${id} (see certgate webhooks list)\n`);
      return 1;
    }
    process.stdout.write(`requeued ${requeued} event${requeued === 1 ? "" : "s"}\n`);
    return 0;
  },
};

export const WEBHOOK_COMMANDS: Command[] = [list, replay].map(withUsage);

/**
 * `--since`: an RFC 3339 time with its zone (`Z` or `±hh:mm`), or a bare date (midnight UTC). A
 * time without a zone would be read in this machine's zone, and a date that does not exist
 * (2026-02-31) would roll over into the next month: either way events of the hours or days between
 * would not be replayed, without a word.
 * @throws UsageError for anything else.
 */
export function instant(text: string): Date {
  const parts =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2})))?$/i.exec(
      text,
    );
  // Groups: year, month, day, hour, minute, second, the zone, its hours and minutes.
  const [
    ,
    year,
    month,
    day,
    hour = "0",
    minute = "0",
    second = "0",
    ,
    offsetHours = "0",
    offsetMinutes = "0",
  ] = parts ?? [];
  const date = parts ? new Date(Date.UTC(Number(year), Number(month) - 1, Number(day))) : undefined;
  const real =
    date !== undefined &&
    date.getUTCFullYear() === Number(year) &&
    date.getUTCMonth() === Number(month) - 1 &&
    date.getUTCDate() === Number(day) &&
    Number(hour) <= 23 &&
    Number(minute) <= 59 &&
    Number(second) <= 59 &&
    Number(offsetHours) <= 23 &&
    Number(offsetMinutes) <= 59;
  const at = real ? new Date(text.replace(" ", "T")) : undefined;
  if (at === undefined || Number.isNaN(at.getTime())) {
    throw new UsageError(
      "--since must be an RFC 3339 time with its zone, e.g. 2026-06-15T03:00:00Z or 2026-06-15T12:00:00+09:00, or a date (midnight UTC)",
    );
  }
  return at;
}

function count(text: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 1 && n <= MAX_LIMIT)) throw new UsageError(`--limit must be from 1 to ${MAX_LIMIT}`);
  return n;
}
