import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration files start servers and databases of their own; two cores run two files at once.
    pool: "forks",
    // Every prepared query (store/prepared.ts) is also built from its real values and compared.
    env: { CERTGATE_CHECK_PREPARED: "1" },
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
