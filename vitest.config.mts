import { defineConfig } from "vitest/config";

// Three projects, one command (`pnpm test`): unit tests need nothing; integration
// and e2e tests use real RabbitMQ, PostgreSQL and Redis (see packages/testkit).
export default defineConfig({
  test: {
    // Under CI a JSON report as well, from which .ci/run prints its closing "N passed, N failed" line.
    reporters: process.env.CI ? ["default", ["json", { outputFile: "test-results/vitest.json" }]] : ["default"],
    projects: [
      {
        test: {
          name: "unit",
          include: ["packages/*/test/**/*.test.ts", "services/*/test/**/*.test.ts", "deploy/test/**/*.test.ts"],
          exclude: ["**/*.int.test.ts", "**/node_modules/**"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["packages/*/test/**/*.int.test.ts", "services/*/test/**/*.int.test.ts"],
          globalSetup: ["packages/testkit/dist/global-setup.js"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["e2e/**/*.e2e.test.ts"],
          globalSetup: ["packages/testkit/dist/global-setup.js"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // The e2e suites start whole systems; two at once would only fight for 2 cores.
          fileParallelism: false,
        },
      },
      {
        // e2e/chaos: private PostgreSQL, Redis and RabbitMQ that the suite restarts,
        // flushes and alarms, under load. A short run here (CHAOS_MESSAGES, default
        // 300 per scenario); `pnpm test:chaos` runs the full one. After the others,
        // alone: it needs the machine's cores to itself.
        test: {
          name: "chaos",
          include: ["e2e/chaos/**/*.chaos.test.ts"],
          // Each scenario sets its own timeout from the run's size.
          hookTimeout: 5 * 60_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
