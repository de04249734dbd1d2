/** Configuration is validated at startup; each refusal names the variable and never echoes its value. */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { describe, expect, it } from "vitest";
import {
  loadConfig,
  PORTONE_PUBLIC_TEST_CREDENTIALS,
  type PublicTestCredentials,
  refusePublicTestCredentials,
} from "../../src/cli/config.js";
import { checkEnvFile } from "../../src/cli/variables.js";
import { ConfigError } from "../../src/core/errors.js";

const SECRET = "a-test-secret-that-is-long-enough-0000";
const production = {
  PORTONE_IMP_CODE: "imp00000000",
  PORTONE_API_KEY: "certgate_test_key",
  PORTONE_API_SECRET: "certgate_test_secret",
  CERTGATE_SECRET: SECRET,
  CERTGATE_API_KEYS: "merchant_backend_key_0001",
};

const v2Only = {
  PORTONE_V2_API_SECRET: "certgate_test_v2_secret",
  PORTONE_STORE_ID: "store-00000000-0000-0000-0000-000000000000",
  CERTGATE_SECRET: SECRET,
  CERTGATE_API_KEYS: "merchant_backend_key_0001",
};

function refusal(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("configuration was accepted");
}

describe("configuration", () => {
  it("defaults to sandbox mode with SQLite under ./data when nothing is set", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ mode: "sandbox", port: 3000, databaseUrl: "./data/certgate.sqlite" });
  });

  it("any PortOne credential means production mode", () => {
    expect(loadConfig(production).mode).toBe("production");
  });

  it.each([
    ["CERTGATE_SECRET", { ...production, CERTGATE_SECRET: "" }],
    ["CERTGATE_API_KEYS", { ...production, CERTGATE_API_KEYS: "" }],
    ["PORTONE_API_SECRET", { ...production, PORTONE_API_SECRET: "" }],
    ["PORTONE_IMP_CODE", { ...production, PORTONE_IMP_CODE: "" }],
    ["PORTONE_API_KEY", { ...production, PORTONE_API_KEY: "imp_apikey" }],
    ["CERTGATE_SECRET", { CERTGATE_SECRET: "short" }],
    // The keyring's own check said "previousSecrets[0]", a name no operator set.
    ["CERTGATE_PREVIOUS_SECRETS", { CERTGATE_PREVIOUS_SECRETS: "short-old-secret" }],
    ["PORT", { PORT: "70000" }],
    ["PORT", { PORT: "abc" }],
    ["CERTGATE_MODE", { CERTGATE_MODE: "staging" }],
    ["CERTGATE_MODE", { ...production, CERTGATE_MODE: "sandbox" }],
    ["CERTGATE_API_KEYS", { CERTGATE_API_KEYS: "short" }],
    ["PORTONE_API_URL", { PORTONE_API_URL: "ftp://x" }],
    // The clients' own rule, named by its variable: a path would be appended after the query.
    ["PORTONE_API_URL", { PORTONE_API_URL: "https://api.iamport.kr/?tenant=1" }],
    ["PORTONE_V2_API_URL", { PORTONE_V2_API_URL: "https://user:pw@api.portone.io" }],
    ["CERTGATE_RETURN_ORIGINS", { CERTGATE_RETURN_ORIGINS: "not a url" }],
    // Dropped without a word before: the credentials, and a path that seemed to narrow the origin.
    ["CERTGATE_RETURN_ORIGINS", { CERTGATE_RETURN_ORIGINS: "https://user:password@shop.example" }],
    ["CERTGATE_RETURN_ORIGINS", { CERTGATE_RETURN_ORIGINS: "https://shop.example/app?x=1" }],
    // Accepted, and never authenticated: a header arrives as Latin-1, and `Bearer <key>` ends at a space.
    ["CERTGATE_API_KEYS", { CERTGATE_API_KEYS: "ключключключключключ" }],
    ["CERTGATE_API_KEYS", { CERTGATE_API_KEYS: "merchant backend key 0001" }],
    // fetch refuses a URL with credentials: every delivery failed, retried for ever.
    [
      "CERTGATE_WEBHOOK_URL",
      {
        CERTGATE_WEBHOOK_URL: "http://user:hunter2-password@127.0.0.1:4100/hook",
        CERTGATE_WEBHOOK_SECRET: "whsec_dGVzdC13ZWJob29rLXNlY3JldC1ub3QtcmVhbA==",
      },
    ],
    ["CERTGATE_DELETE_UPSTREAM", { CERTGATE_DELETE_UPSTREAM: "maybe" }],
    ["CERTGATE_RETENTION_DAYS", { CERTGATE_RETENTION_DAYS: "-1" }],
    ["CERTGATE_WEBHOOK_URL", { CERTGATE_WEBHOOK_URL: "not a url" }],
    ["CERTGATE_WEBHOOK_SECRET", { CERTGATE_WEBHOOK_URL: "https://hooks.example/certgate" }],
    [
      "CERTGATE_WEBHOOK_SECRET",
      {
        CERTGATE_WEBHOOK_URL: "https://hooks.example/certgate",
        CERTGATE_WEBHOOK_SECRET: "whsec_this-is-not_base64-at-all!!",
      },
    ],
    ["CERTGATE_WEBHOOK_SECRET", { CERTGATE_WEBHOOK_SECRET: "too-short-a-secret" }],
  ])("refuses a bad %s, naming it", (variable, env) => {
    const error = refusal(env as Record<string, string>);
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable}:`)).toBe(true);
    for (const value of Object.values(env)) if (value.length > 8) expect(error.message).not.toContain(value);
  });

  it.each([
    ["CERTGATE_RETENTION_DAYS", "-1", "0 to 3650"],
    ["CERTGATE_RETENTION_DAYS", "1.5", "0 to 3650"],
    ["CERTGATE_RETENTION_DAYS", "forever", "0 to 3650"],
    ["CERTGATE_RETENTION_DAYS", "3651", "0 to 3650"],
    ["PORT", "-1", "0 to 65535"],
    ["PORT", "65536", "0 to 65535"],
    ["CERTGATE_RECOVERY_INTERVAL_MS", "-5000", "0 to 3600000"],
  ])("%s=%s is refused with the whole rule: a whole number from %s", (variable, value, range) => {
    expect(refusal({ [variable]: value }).message).toBe(`${variable}: must be a whole number from ${range}`);
  });

  it("reads a return origin as the URL standard writes it: a trailing slash and case are spelling", () => {
    expect(
      loadConfig({ CERTGATE_RETURN_ORIGINS: "https://Shop.Example/, http://localhost:3000" }).returnOrigins,
    ).toEqual(["https://shop.example", "http://localhost:3000"]);
  });

  it("production with CERTGATE_MODE=production and nothing else refuses on the secret first", () => {
    expect(refusal({ CERTGATE_MODE: "production" }).variable).toBe("CERTGATE_SECRET");
  });

  describe("PortOne credentials in production: at least one complete set, no half-given one", () => {
    it.each([
      ["V1 only", production],
      ["V2 only", v2Only],
      ["V1 and V2", { ...production, ...v2Only }],
    ])("accepts %s", (_name, env) => {
      const config = loadConfig(env);
      expect(config.mode).toBe("production");
    });

    it("a V2-only configuration carries the V2 secret and store id, and no V1 credentials", () => {
      expect(loadConfig(v2Only).portone).toMatchObject({
        apiKey: undefined,
        apiSecret: undefined,
        impCode: undefined,
        v2ApiSecret: v2Only.PORTONE_V2_API_SECRET,
        storeId: v2Only.PORTONE_STORE_ID,
      });
    });

    it.each([
      ["PORTONE_STORE_ID", "a V2 secret without a store id", { ...v2Only, PORTONE_STORE_ID: "" }],
      [
        "PORTONE_STORE_ID",
        "a V2 secret beside a complete V1 set",
        { ...production, PORTONE_V2_API_SECRET: "x".repeat(20) },
      ],
      [
        "PORTONE_V2_API_SECRET",
        "a store id without a V2 secret",
        { ...production, PORTONE_STORE_ID: "store-1" },
      ],
      [
        "PORTONE_API_SECRET",
        "half a V1 set beside a complete V2 set",
        { ...v2Only, PORTONE_API_KEY: "certgate_test_key" },
      ],
      [
        "PORTONE_IMP_CODE",
        "a V1 key and secret without the imp code",
        { ...v2Only, PORTONE_API_KEY: "certgate_test_key", PORTONE_API_SECRET: "certgate_test_secret" },
      ],
      [
        "PORTONE_API_KEY",
        "no credentials at all",
        {
          CERTGATE_MODE: "production",
          CERTGATE_SECRET: SECRET,
          CERTGATE_API_KEYS: "merchant_backend_key_0001",
        },
      ],
    ])("refuses %s: %s", (variable, _name, env) => {
      const error = refusal(env);
      expect(error.variable).toBe(variable);
      expect(error.message.startsWith(`${variable}:`)).toBe(true);
      for (const value of Object.values(env))
        if (value.length > 8 && value !== "production") expect(error.message).not.toContain(value);
    });

    it("the public test key is refused even beside a complete V2 set", () => {
      expect(refusal({ ...production, ...v2Only, PORTONE_API_KEY: "imp_apikey" }).variable).toBe(
        "PORTONE_API_KEY",
      );
    });
  });

  describe("PortOne's public test credentials are refused in production, named and never echoed", () => {
    // A made-up "public" secret, hashed here the way the guard hashes: the real public secrets
    // appear in this repository only as their SHA-256.
    const madeUpSecret = "a-made-up-public-test-secret-0000000000";
    const injected: PublicTestCredentials = {
      keys: ["made_up_public_key"],
      secretSha256: [createHash("sha256").update(madeUpSecret).digest("hex")],
      merchantCodes: ["imp99999999"],
    };
    const ours = { apiKey: "certgate_test_key", apiSecret: "certgate_test_secret", impCode: "imp00000000" };
    const refused = (portone: Parameters<typeof refusePublicTestCredentials>[0]) => {
      try {
        refusePublicTestCredentials(portone, injected);
      } catch (error) {
        if (error instanceof ConfigError) return error;
        throw error;
      }
      throw new Error("accepted");
    };

    it("the list holds secrets only as SHA-256 hex", () => {
      expect(PORTONE_PUBLIC_TEST_CREDENTIALS.secretSha256.length).toBeGreaterThan(0);
      for (const hash of PORTONE_PUBLIC_TEST_CREDENTIALS.secretSha256) expect(hash).toMatch(/^[0-9a-f]{64}$/);
    });

    it("accepts credentials that are not on the list, with PortOne's list and an injected one", () => {
      expect(() => refusePublicTestCredentials({ ...ours, v2ApiSecret: madeUpSecret })).not.toThrow();
      expect(() =>
        refusePublicTestCredentials({ ...ours, v2ApiSecret: "x".repeat(40) }, injected),
      ).not.toThrow();
    });

    it.each([
      ["PORTONE_API_KEY", { ...ours, apiKey: "made_up_public_key" }],
      ["PORTONE_API_SECRET", { ...ours, apiSecret: madeUpSecret }],
      ["PORTONE_V2_API_SECRET", { ...ours, v2ApiSecret: madeUpSecret }],
      ["PORTONE_IMP_CODE", { ...ours, impCode: "imp99999999" }],
    ])("refuses a listed %s, by hash for a secret", (variable, portone) => {
      const error = refused(portone);
      expect(error.variable).toBe(variable);
      expect(error.message.startsWith(`${variable}: `)).toBe(true);
      expect(error.message).toContain("public test");
      for (const value of ["made_up_public_key", madeUpSecret, "imp99999999"])
        expect(error.message).not.toContain(value);
    });

    it("compares the whole secret: a prefix or an extension of a listed one passes", () => {
      expect(() => refused({ ...ours, apiSecret: madeUpSecret.slice(0, -1) })).toThrow("accepted");
      expect(() => refused({ ...ours, apiSecret: `${madeUpSecret}0` })).toThrow("accepted");
    });

    it.each([
      ["PORTONE_API_KEY", { ...production, PORTONE_API_KEY: "imp_apikey" }],
      ["PORTONE_IMP_CODE", { ...production, PORTONE_IMP_CODE: "imp10391932" }],
      ["PORTONE_IMP_CODE", { ...production, PORTONE_IMP_CODE: "imp19424728" }],
    ])("loadConfig refuses PortOne's public %s", (variable, env) => {
      const error = refusal(env);
      expect(error.variable).toBe(variable);
      expect(error.message).not.toContain(env[variable as keyof typeof env]);
    });

    it("sandbox mode keeps the test merchant code: it never reaches PortOne there", () => {
      expect(loadConfig({ PORTONE_IMP_CODE: "imp10391932" }).mode).toBe("sandbox");
    });
  });
});

describe("DATABASE_URL is a postgres:// URL or a SQLite path, nothing else", () => {
  it("a URL with postgres:// left off is refused without naming what stands before its colon", () => {
    // `app:` is the user name there, not a scheme.
    const error = refusal({ ...production, DATABASE_URL: "app:hunter2@db.internal/certgate" });
    expect(error.variable).toBe("DATABASE_URL");
    expect(error.message).toContain("has the scheme, which certgate does not open");
    for (const part of ["app", "hunter2", "db.internal"]) expect(error.message).not.toContain(`${part}:`);
    expect(error.message).not.toContain("hunter2");
  });

  it.each([
    "postgres:/db.internal:5432/certgate",
    "postgres//app:hunter2@db.internal/certgate",
    "postgresql:db.internal/certgate",
  ])("refuses %s, a postgres:// URL mistyped, never showing its parts", (url) => {
    const error = refusal({ ...production, DATABASE_URL: url });
    expect(error.variable).toBe("DATABASE_URL");
    expect(error.message).toContain("looks like a postgres:// URL but is not one");
    expect(error.message).not.toContain("db.internal");
    expect(error.message).not.toContain("hunter2");
  });

  it.each([
    "pg://db.internal/certgate",
    "mysql://db.internal/certgate",
    "https://db.internal/certgate",
    "sqlite://certgate.sqlite",
    "file:certgate.sqlite?mode=ro",
  ])("refuses %s, naming DATABASE_URL and its scheme, never the rest", (url) => {
    const error = refusal({ ...production, DATABASE_URL: url });
    expect(error.variable).toBe("DATABASE_URL");
    expect(error.message).toContain(`"${url.split(":")[0]}:"`);
    expect(error.message).not.toContain("db.internal");
    expect(error.message).not.toContain("certgate.sqlite");
  });

  it.each([
    ["postgres://certgate@db.internal/certgate", "postgres://certgate@db.internal/certgate"],
    ["POSTGRESQL://db.internal/certgate", "POSTGRESQL://db.internal/certgate"],
    ["./data/certgate.sqlite", "./data/certgate.sqlite"],
    ["/var/lib/certgate/certgate.sqlite", "/var/lib/certgate/certgate.sqlite"],
    ["./name:with-colon.sqlite", "./name:with-colon.sqlite"],
    ["C:\\certgate\\certgate.sqlite", "C:\\certgate\\certgate.sqlite"],
  ])("takes %s", (url, expected) => {
    expect(loadConfig({ ...production, DATABASE_URL: url }).databaseUrl).toBe(expected);
  });
});

describe("a CERTGATE_ variable certgate does not read is refused, named, its value never shown", () => {
  it.each([
    ["CERTGATE_DELETE_UPSTREM", "CERTGATE_DELETE_UPSTREAM"],
    ["CERTGATE_API_KEY", "CERTGATE_API_KEYS"],
    ["CERTGATE_PREVIOUS_SECRET", "CERTGATE_PREVIOUS_SECRETS"],
    ["CERTGATE_WEBHOOKS_URL", "CERTGATE_WEBHOOK_URL"],
  ])("%s: did you mean %s", (typo, meant) => {
    const error = refusal({ ...production, [typo]: "value-never-shown-0001" });
    expect(error.variable).toBe(typo);
    expect(error.message).toBe(
      `${typo}: is not a variable certgate reads (did you mean ${meant}?); correct or remove it`,
    );
  });

  it("a name far from every variable gets no suggestion; of an odd one only the leading part is shown", () => {
    expect(refusal({ CERTGATE_COLOUR: "blue" }).message).toBe(
      "CERTGATE_COLOUR: is not a variable certgate reads; correct or remove it",
    );
    // What a malformed .env line runs into the next name may be a value, a key even.
    const error = refusal({ "CERTGATE_API_KEYS ck_live_9f8e7d6c5b4a39281716\nPORT": "3000" });
    expect(error.variable).toBe("CERTGATE_API_KEYS…");
    expect(error.message).not.toContain("ck_live");
    expect(refusal({ [`CERTGATE_${"x".repeat(200)}`]: "1" }).message.length).toBeLessThan(220);
  });

  it("an empty one is unset, as every variable is; other tools' and other prefixes are left alone", () => {
    expect(loadConfig({ ...production, CERTGATE_DELETE_UPSTREM: " " }).mode).toBe("production");
    const config = loadConfig({
      ...production,
      CERTGATE_CHECK_PREPARED: "1",
      CERTGATE_TEST_DATABASE_URL: "postgres://127.0.0.1/test",
      CERTGATE_SOAK: "1",
      CERTGATE_BUILD: "dev",
      CERTGATE_URL: "http://127.0.0.1:3000",
      PORTONE_WEBHOOK_SECRET: "the merchant's own",
      CERTGATEWAY_URL: "https://other.example",
    });
    expect(config.mode).toBe("production");
  });
});

describe(".env: a line that is not NAME=value, a comment or blank stops startup, named by number", () => {
  it.each([
    ["CERTGATE_RETENTION_DAYS 7", 1],
    ["# retention\nCERTGATE_DELETE_UPSTREAM: true", 2],
    // An opening quote that never closes is this line's text (Node's rule): the next lines are read.
    ['CERTGATE_SECRET="0123456789abcdef0123456789abcdef\nCERTGATE_API_KEYS ck_live_0000\nPORT=3000', 2],
    ["PORT=3000\n\n  CERTGATE_DEMO\n", 3],
    ['A="one\ntwo"\nthen nonsense', 3],
  ])("%j: line %i", (text, line) => {
    let error: unknown;
    try {
      checkEnvFile(text);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(`.env: line ${line} is not NAME=value, a comment or blank`);
  });

  it("refuses spaces alone or before a comment when a variable follows: Node's parser would lose it", () => {
    const spaces =
      ".env: line 2 holds only spaces or a comment after spaces, which loses the next variable (remove the spaces)";
    for (const text of ["A=1\n   \nPORT=2", "A=1\n  # note\nPORT=2", "A=1\n\t\n# note\nPORT=2"]) {
      expect(Object.keys(parseEnv(text))).not.toContain("PORT");
      expect(() => checkEnvFile(text)).toThrow(spaces);
    }
    // Nothing follows to lose: taken.
    expect(() => checkEnvFile("A=1\nB=2\n  \n  # end")).not.toThrow();
    expect(Object.keys(parseEnv("A=1\nB=2\n  "))).toEqual(["A", "B"]);
  });

  it("refuses a # inside an unquoted value, where Node's parser cuts the value (a key, a secret) short", () => {
    const text = "CERTGATE_API_KEYS=merchant_key_0001#the-rest-of-the-key\nPORT=3000";
    expect(parseEnv(text).CERTGATE_API_KEYS).toBe("merchant_key_0001");
    expect(() => checkEnvFile(text)).toThrow(
      ".env: line 1 has a # inside an unquoted value, where Node's parser drops the rest as a comment (quote the value)",
    );
    // Quoted, the # is part of the value; after a space, it is the comment it looks like.
    const quoted = 'CERTGATE_API_KEYS="merchant_key_0001#the-rest-of-the-key"\nPORT=3000 # the port';
    expect(parseEnv(quoted).CERTGATE_API_KEYS).toBe("merchant_key_0001#the-rest-of-the-key");
    expect(() => checkEnvFile(quoted)).not.toThrow();
  });

  it("refuses a byte-order mark, which Node's parser makes part of the first name", () => {
    expect(Object.keys(parseEnv("\uFEFFCERTGATE_DELETE_UPSTREAM=true"))).toEqual([
      "\uFEFFCERTGATE_DELETE_UPSTREAM",
    ]);
    expect(() => checkEnvFile("\uFEFFCERTGATE_DELETE_UPSTREAM=true")).toThrow(
      ".env: line 1 begins with a byte-order mark",
    );
  });

  it("takes what Node's parser takes: export, spaces around =, quoted values over lines, comments", () => {
    const text = [
      "# certgate",
      "export PORT=3000",
      "CERTGATE_SECRET = abcdefghijklmnopqrstuvwxyz0123456789",
      'CERTGATE_API_KEYS="merchant_backend_key_0001"',
      "MULTI='first",
      "second line: not a definition",
      "last'",
      "",
      "LOG_LEVEL=info # trailing comment",
    ].join("\n");
    expect(() => checkEnvFile(text)).not.toThrow();
    expect(Object.keys(parseEnv(text)).sort()).toEqual([
      "CERTGATE_API_KEYS",
      "CERTGATE_SECRET",
      "LOG_LEVEL",
      "MULTI",
      "PORT",
    ]);
    expect(() =>
      checkEnvFile(readFileSync(new URL("../../.env.example", import.meta.url), "utf8")),
    ).not.toThrow();
  });
});
