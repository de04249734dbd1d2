/**
 * The process logger's second line of defence (cli/logger.ts `createLogger`): call sites log ids and
 * decisions only, but a personal or secret field passed by mistake — at the top of a line's object,
 * or `name` / `phone` one level down — is written as "[redacted]", never as its value. The caller's
 * object is left as it was. Values are made up for this test.
 */
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/cli/logger.js";

/** A logger whose lines are collected, parsed. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger(
    new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split("\n").filter(Boolean))
          lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    }),
  );
  return { logger, lines };
}

/** Listed here, not imported from the logger: dropping one there must fail this test. */
const CENSORED_KEYS = [
  "name",
  "phone",
  "birthday",
  "birth",
  "unique_key",
  "unique_in_site",
  "ci",
  "di",
  "token",
] as const;

describe("the process logger's redaction", () => {
  it.each(CENSORED_KEYS)("writes a top-level %s as [redacted], and the other fields as they are", (key) => {
    const { logger, lines } = capture();
    const secret = `fake-${key}-value-0000`;
    logger.info({ verification_id: "ver_test", [key]: secret, status: "verified" }, "a line");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      verification_id: "ver_test",
      [key]: "[redacted]",
      status: "verified",
      msg: "a line",
    });
    expect(JSON.stringify(lines[0])).not.toContain(secret);
  });

  it("writes name and phone one level down as [redacted], beside the nested object's other fields", () => {
    const { logger, lines } = capture();
    logger.info(
      { person: { name: "Fake Person", phone: "01000000000", gender: "female" }, attempt: { n: 2 } },
      "nested",
    );
    expect(lines[0]).toMatchObject({
      person: { name: "[redacted]", phone: "[redacted]", gender: "female" },
      attempt: { n: 2 },
    });
    expect(JSON.stringify(lines[0])).not.toContain("Fake Person");
    expect(JSON.stringify(lines[0])).not.toContain("01000000000");
  });

  it("censors a child logger's fields too, on every line it writes, and a grandchild's", () => {
    const { logger, lines } = capture();
    const child = logger.child({
      request_id: "req_test",
      token: "fake-token-0000",
      person: { phone: "01000000000" },
    });
    child.info({ status: 200 }, "first");
    child.child({ ci: "fake-ci-value-0000", step: "lookup" }).info({ status: 201 }, "second");
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).toMatchObject({
        request_id: "req_test",
        token: "[redacted]",
        person: { phone: "[redacted]" },
      });
      expect(JSON.stringify(line)).not.toContain("fake-token-0000");
      expect(JSON.stringify(line)).not.toContain("01000000000");
    }
    expect(lines[1]).toMatchObject({ ci: "[redacted]", step: "lookup", status: 201 });
    expect(JSON.stringify(lines[1])).not.toContain("fake-ci-value-0000");
  });

  it("leaves the caller's object as it was", () => {
    const { logger } = capture();
    const fields = { token: "fake-token-0000", person: { name: "Fake Person", id: "p1" } };
    logger.info(fields, "not mutated");
    expect(fields).toEqual({ token: "fake-token-0000", person: { name: "Fake Person", id: "p1" } });
  });

  it("writes a line without censored fields unchanged", () => {
    const { logger, lines } = capture();
    logger.info(
      { request_id: "req_test", method: "POST", route: "/certifications", status: 200, ms: 3 },
      "request",
    );
    expect(lines[0]).toMatchObject({
      level: 30,
      request_id: "req_test",
      method: "POST",
      route: "/certifications",
      status: 200,
      ms: 3,
      msg: "request",
    });
  });
});
