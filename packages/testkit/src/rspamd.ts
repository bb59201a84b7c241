import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { freePort } from "./processes.js";

const RSPAMD = "/usr/bin/rspamd";

/**
 * rspamd's GTUBE (its own test pattern, as SpamAssassin's): a text part holding it
 * is answered `reject` at once, without running any rule. rspamd also knows Y…/Z…/A…
 * variants for add header / rewrite subject / no action behind `enable_test_patterns`,
 * but Debian's 3.4 does not act on them, so the harness produces those verdicts by score
 * (`rspamdTest.score`) instead.
 */
export const GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

/**
 * The private rspamd's thresholds (its `actions` block) and the test headers its one
 * Lua rule reads, so that a test can ask for each verdict:
 * - `X-Correo-Test-Score: 7` adds 7 to the score (symbol CORREO_TEST_SCORE), so 5 →
 *   greylist, 7 → add header, 9 → rewrite subject, 20 → reject; it also asks for a
 *   milter edit (adds X-Correo-Test-Scored, removes X-Correo-Test-Score);
 * - `X-Correo-Test-Action: soft reject` (any action name) sets that action as a pre-result.
 * Every answer carries symbol CORREO_TEST_ENVELOPE whose options are the envelope rspamd
 * read: `ip=…`, `helo=…`, `hostname=…`, `from=…`, `rcpt=…` (one per recipient), `user=…`, `queue-id=…`.
 */
export const rspamdTest = {
  thresholds: { greylist: 4, addHeader: 6, rewriteSubject: 8, reject: 15 },
  subjectPrefix: "***SPAM***",
  score: "X-Correo-Test-Score",
  action: "X-Correo-Test-Action",
} as const;

export interface PrivateRspamd {
  /** Base URL of its normal worker (what RSPAMD_URL names). */
  url: string;
  port: number;
  /** Its main process (the workers are its children), for CPU figures. */
  pid: number;
  /** rspamd's log so far, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/** Whether Debian's rspamd is installed (scripts/install-test-deps.sh). */
export function canStartRspamd(): boolean {
  return existsSync(RSPAMD);
}

// Hyperscan databases (the URL TLD matcher) take ~10 s to compile; rspamd keeps them in a
// cache directory that every private instance shares, so only the first start pays.
const HS_CACHE = "/tmp/correo-rspamd-hs-cache";

const TEST_RULES = `
-- Correo's test rules: verdicts on demand and the envelope echoed back (packages/testkit/src/rspamd.ts).
rspamd_config:register_symbol({
  name = 'CORREO_TEST_ACTION', type = 'prefilter', priority = 10,
  callback = function(task)
    local wanted = task:get_header('${rspamdTest.action}')
    if wanted then task:set_pre_result(wanted, 'Correo test: ' .. wanted, 'correo_test') end
  end,
})
rspamd_config:register_symbol({
  name = 'CORREO_TEST_SCORE', score = 1.0,
  callback = function(task)
    local n = tonumber(task:get_header('${rspamdTest.score}') or '')
    if n then
      task:insert_result('CORREO_TEST_SCORE', n, 'asked for ' .. n)
      task:set_milter_reply({ add_headers = { ['X-Correo-Test-Scored'] = tostring(n) }, remove_headers = { ['${rspamdTest.score}'] = 0 } })
    end
  end,
})
rspamd_config:register_symbol({
  name = 'CORREO_TEST_ENVELOPE', score = 0.0,
  callback = function(task)
    local seen = {}
    local ip = task:get_from_ip()
    if ip and ip:is_valid() then table.insert(seen, 'ip=' .. ip:to_string()) end
    if task:get_helo() then table.insert(seen, 'helo=' .. task:get_helo()) end
    if task:get_hostname() then table.insert(seen, 'hostname=' .. task:get_hostname()) end
    local from = task:get_from('smtp')
    if from and from[1] then table.insert(seen, 'from=' .. (from[1].addr or '')) end
    for _, r in ipairs(task:get_recipients('smtp') or {}) do table.insert(seen, 'rcpt=' .. r.addr) end
    if task:get_user() then table.insert(seen, 'user=' .. task:get_user()) end
    if task:get_queue_id() then table.insert(seen, 'queue-id=' .. task:get_queue_id()) end
    task:insert_result('CORREO_TEST_ENVELOPE', 0.0, seen)
  end,
})
`;

function config(dir: string, port: number): string {
  const { thresholds: t, subjectPrefix } = rspamdTest;
  return `# A private rspamd for tests: one normal worker on loopback, no plugins (so no DNS
# lists, no Redis, nothing that leaves the machine), GTUBE and Correo's test rules only.
options {
  pidfile = "${dir}/rspamd.pid";
  filters = "";
  dynamic_conf = "${dir}/dynamic.conf";
  history_file = "${dir}/history";
  cache_file = "${dir}/symbols.cache";
  stats_file = "${dir}/stats.ucl";
  control_socket = "${dir}/rspamd.sock mode=0600";
  tempdir = "${dir}";
  hs_cache_dir = "${HS_CACHE}";
  allow_raw_input = true;
  local_addrs = [];
  # Any lookup a rule might still try goes to a closed loopback port and fails at once.
  dns { nameserver = ["127.0.0.1:9"]; timeout = 100ms; retransmits = 1; }
}
logging { type = "file"; filename = "${dir}/rspamd.log"; level = "info"; }
actions {
  reject = ${t.reject};
  rewrite_subject = ${t.rewriteSubject};
  add_header = ${t.addHeader};
  greylist = ${t.greylist};
  subject = "${subjectPrefix} %s";
}
lua = "${dir}/correo-test.lua";
worker "normal" {
  bind_socket = "127.0.0.1:${port}";
  count = 1;
  task_timeout = 5s;
}
`;
}

/**
 * Starts a private rspamd (Debian's package) on a loopback high port with a minimal
 * configuration in a temporary directory, and resolves once `/ping` answers `pong`.
 */
export async function startRspamd(options: { port?: number; timeoutMs?: number } = {}): Promise<PrivateRspamd> {
  if (!canStartRspamd()) throw new Error(`${RSPAMD} not found: run scripts/install-test-deps.sh (as root) to install rspamd`);
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync("/tmp/correo-rspamd-");
  mkdirSync(HS_CACHE, { recursive: true });
  writeFileSync(join(dir, "rspamd.conf"), config(dir, port));
  writeFileSync(join(dir, "correo-test.lua"), TEST_RULES);
  // -f: stay in the foreground (our child); -i: rspamd refuses to run as root without it.
  const args = ["-f", "-c", join(dir, "rspamd.conf"), ...(userInfo().uid === 0 ? ["-i"] : [])];
  const child = spawn(RSPAMD, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const log = () => {
    const file = join(dir, "rspamd.log");
    return out + (existsSync(file) ? readFileSync(file, "utf8") : "");
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const why = log().slice(-3000);
      await stop();
      throw new Error(`rspamd exited while starting:\n${why}`);
    }
    try {
      const res = await fetch(`${url}/ping`);
      if (res.status === 200 && (await res.text()).trim() === "pong") break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      const why = log().slice(-3000);
      await stop();
      throw new Error(`rspamd did not answer ${url}/ping within ${options.timeoutMs ?? 60_000} ms:\n${why}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, port, pid: child.pid!, log, stop };
}
