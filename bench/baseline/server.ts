/**
 * The BASELINE: identity verification completion as PortOne's guide sample writes it ("4. Get
 * verification info", Node.js popup tab) — the server a merchant would otherwise run, and what
 * certgate is measured against. Kept faithful to the guide, flaws included, on purpose:
 *
 * - a NEW access token for every request (`POST /users/getToken`), then
 *   `GET /certifications/{imp_uid}` with the bare token in `Authorization`: two upstream calls;
 * - the age check `new Date(birth).getFullYear() <= 1999` with its hard-coded year — PortOne's `birth`
 *   is unix SECONDS, so this reads a date in January 1970 and always passes;
 * - no check that the record belongs to this merchant's request (no merchant_uid binding), no
 *   `certified` check, no replay protection;
 * - find-then-create of the user by `unique_key` (CI), outside a transaction, so two concurrent
 *   completions of one person can both create a user.
 *
 * Only what a benchmark needs differs from the sample: credentials and the API URL come from the
 * environment (the sample hard-codes them and `https://api.iamport.kr`); the handler answers
 * (200 created/existing, 403 when the age check fails, 500 on an error) where the sample leaves it
 * at "...", and the `catch` logs only the error's message where the sample logs the whole error
 * (axios errors carry the request, secret included). The database is what a merchant would pick
 * with better-sqlite3: a file in WAL mode (better-sqlite3's documented recommendation) with an index
 * on the lookup column, so neither journaling nor a table scan decides the comparison.
 *
 * Run by the benchmark as plain JavaScript (bench/run.ts transpiles it), one process:
 *   PORT=0 HOST=127.0.0.1 IAMPORT_API_URL=http://127.0.0.1:4010 IMP_KEY=… IMP_SECRET=… DATABASE_FILE=./users.db
 * It prints one JSON line `{"msg":"baseline is serving","url":…}` once it listens.
 */
import type { AddressInfo } from "node:net";
import axios from "axios";
import Database from "better-sqlite3";
import express from "express";

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const IAMPORT_API_URL = env("IAMPORT_API_URL");
const IMP_KEY = env("IMP_KEY");
const IMP_SECRET = env("IMP_SECRET");

// The merchant's user table ("Users" in the sample).
const db = new Database(env("DATABASE_FILE"));
db.pragma("journal_mode = WAL");
db.exec(`
  CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    certification_key TEXT NOT NULL,
    unique_in_site TEXT,
    name TEXT,
    gender TEXT,
    birth INTEGER
  );
  CREATE INDEX IF NOT EXISTS users_certification_key ON users (certification_key);
`);
const findUser = db.prepare("SELECT id FROM users WHERE certification_key = ?");
const createUser = db.prepare(
  "INSERT INTO users (certification_key, unique_in_site, name, gender, birth) VALUES (?, ?, ?, ?, ?)",
);
const Users = {
  find: async ({ certificationKey }: { certificationKey: string }) => findUser.get(certificationKey),
  create: async (user: {
    certificationKey: string;
    uniqueInSite: string | null;
    name: string | null;
    gender: string | null;
    birth: number | null;
  }) => createUser.run(user.certificationKey, user.uniqueInSite, user.name, user.gender, user.birth),
};

interface CertificationsInfo {
  unique_key: string;
  unique_in_site: string | null;
  name: string | null;
  gender: string | null;
  birth: number;
}

const app = express();
app.use(express.json()); // the sample's bodyParser.json(); Express bundles body-parser

// controller that handles POST request to "/certifications"
app.post("/certifications", async (request, response) => {
  const { imp_uid } = request.body; // Get imp_uid from request.body
  try {
    // Get access token
    const getToken = await axios({
      url: `${IAMPORT_API_URL}/users/getToken`,
      method: "post", // POST method
      headers: { "Content-Type": "application/json" },
      data: {
        imp_key: IMP_KEY, // REST API Key
        imp_secret: IMP_SECRET, // REST API Secret
      },
    });
    const { access_token } = getToken.data.response; // Access token

    // Get verification info from i'mport server using imp_uid
    const getCertifications = await axios({
      url: `${IAMPORT_API_URL}/certifications/${imp_uid}`, // Pass imp_uid
      method: "get", // GET method
      headers: { Authorization: access_token }, // Add access token to Authorization header
    });
    const certificationsInfo: CertificationsInfo = getCertifications.data.response; // Save verification info
    // unique_key: Unique key for user, unique_in_site: Unique key for user per site
    const { unique_key, unique_in_site, name, gender, birth } = certificationsInfo;

    // Check age restrictions
    if (new Date(birth).getFullYear() <= 1999) {
      // Check successful
    } else {
      // Check failed
      response.status(403).json({ status: "too_young" });
      return;
    }

    // one account per person check
    // Query database with unique_key to check for existing account
    const user = await Users.find({ certificationKey: unique_key });
    if (!user) {
      // New user
      await Users.create({ certificationKey: unique_key, uniqueInSite: unique_in_site, name, gender, birth });
      response.json({ status: "created" });
    } else {
      // Existing user
      response.json({ status: "existing" });
    }
  } catch (e) {
    console.error(e instanceof Error ? e.message : "error");
    response.status(500).json({ status: "error" });
  }
});

const server = app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? "127.0.0.1", () => {
  const { address, port } = server.address() as AddressInfo;
  console.log(JSON.stringify({ msg: "baseline is serving", url: `http://${address}:${port}` }));
});

const stop = () => server.close(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
