import { afterEach, describe, expect, it } from "vitest";
import { createPool, type Pool } from "../src/index.js";

// What each PoolOptions flag does to the connections it opens, as PostgreSQL reports it
// (any database will do: the settings are the connection's).
const url = () => Object.assign(new URL(process.env.DATABASE_URL!), { pathname: "/postgres" }).toString();

describe("createPool", () => {
  let pool: Pool | undefined;
  afterEach(async () => {
    await pool?.end();
    pool = undefined;
  });
  /** Each setting's value, and whether this connection's client set it. */
  const settings = async (p: Pool) =>
    Object.fromEntries(
      (
        await p.query<{ name: string; setting: string; source: string }>(
          "SELECT name, setting, source FROM pg_settings WHERE name IN ('plan_cache_mode', 'synchronous_commit') ORDER BY name",
        )
      ).rows.map((r) => [r.name, r.source === "client" ? r.setting : "server's"]),
    );

  it("leaves the server's settings alone when asked for nothing", async () => {
    pool = createPool(url(), 1);
    expect(await settings(pool)).toEqual({ plan_cache_mode: "server's", synchronous_commit: "server's" });
  });

  it("plans prepared statements generically, commits without waiting for the disk, or both", async () => {
    for (const [opts, want] of [
      [{ genericPlans: true }, { plan_cache_mode: "force_generic_plan", synchronous_commit: "server's" }],
      [{ asyncCommit: true }, { plan_cache_mode: "server's", synchronous_commit: "off" }],
      [{ genericPlans: true, asyncCommit: true }, { plan_cache_mode: "force_generic_plan", synchronous_commit: "off" }],
    ] as const) {
      pool = createPool(url(), 1, opts);
      expect(await settings(pool)).toEqual(want);
      await pool.end();
      pool = undefined;
    }
  });
});
