// CPU seconds of a system's processes, read from /proc, for `pnpm bench`.
//
// A process tree's total is, for every live member, utime+stime plus cutime+cstime:
// the children it has reaped (Postfix's smtpd/cleanup, Dovecot's imap/lmtp) are in
// their parent's c-fields, so exited workers are counted once and never lost.
"use strict";
const { readFileSync, readdirSync, readlinkSync } = require("node:fs");

const TICK = 100; // getconf CLK_TCK on Linux

function stat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    // fields after the comm: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14)
    return { ppid: Number(f[1]), self: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) };
  } catch {
    return undefined;
  }
}

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim();
  } catch {
    return "";
  }
}

const pids = () => readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number);

/** Live descendants of `root` (and `root` itself when includeRoot). */
function tree(root, includeRoot = true) {
  const byParent = new Map();
  for (const pid of pids()) {
    const s = stat(pid);
    if (!s) continue;
    if (!byParent.has(s.ppid)) byParent.set(s.ppid, []);
    byParent.get(s.ppid).push(pid);
  }
  const out = includeRoot ? [root] : [];
  const todo = [root];
  while (todo.length) for (const c of byParent.get(todo.pop()) ?? []) (out.push(c), todo.push(c));
  return out;
}

/** The process that listens on 127.0.0.1/0.0.0.0:`port` (TCP), from /proc/net/tcp and the fds. */
function listener(port) {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[1].endsWith(`:${hex}`) && f[3] === "0A") inodes.add(f[9]);
    }
  }
  for (const pid of pids()) {
    let fds;
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1])) return pid;
      } catch {
        /* fd closed meanwhile */
      }
    }
  }
  return undefined;
}

/**
 * A meter over a set of process groups, each a function returning [pid, countChildren][].
 * `sample()` sums them; `delta(a, b)` is seconds per group and in all.
 */
function meter(groups) {
  // The last ticks seen per process: one that exits between samples keeps what it had
  // (instead of making its group's sum fall), losing only its time since the last sample.
  const last = new Map();
  return {
    sample() {
      const out = {};
      for (const [name, members] of Object.entries(groups)) {
        for (const [pid, withChildren] of members()) {
          const s = stat(pid);
          if (s) last.set(`${name}/${pid}`, s.self + (withChildren ? s.children : 0));
        }
        let ticks = 0;
        for (const [key, t] of last) if (key.startsWith(`${name}/`)) ticks += t;
        out[name] = ticks;
      }
      return out;
    },
    delta(a, b) {
      const out = { total: 0 };
      for (const name of Object.keys(groups)) {
        out[name] = ((b[name] ?? 0) - (a[name] ?? 0)) / TICK;
        out.total += out[name];
      }
      return out;
    },
  };
}

/**
 * Correo's processes: the five services (children of `pnpm start`, with what they
 * reaped), RabbitMQ's beam.smp, Redis, and of PostgreSQL the backends of this
 * database plus the cluster's own background processes (not other databases' backends;
 * a backend that exits during a step loses its time, so keep pools steady).
 */
function correoGroups({ startPid, pgPort, amqpPort, redisPort, database }) {
  const postmaster = listener(pgPort);
  const beam = listener(amqpPort);
  const redis = listener(redisPort);
  const postgres = () => {
    if (!postmaster) return [];
    return tree(postmaster, true).filter((pid) => {
      if (pid === postmaster) return true;
      const c = cmdline(pid);
      // client backends show "postgres: user db host(port) state"; background ones don't.
      return c.includes(` ${database} `) || !/ (\d+\.\d+\.\d+\.\d+|\[local\])(\(\d+\))? /.test(c);
    }).map((pid) => [pid, false]);
  };
  const service = (name) => () =>
    tree(startPid, false).filter((pid) => cmdline(pid).includes(`services/${name}/`)).map((pid) => [pid, true]);
  return {
    submission: service("submission"),
    routing: service("routing"),
    "relay-queue": service("relay-queue"),
    mailbox: service("mailbox"),
    retrieval: service("retrieval"),
    postgres,
    rabbitmq: () => (beam ? [[beam, false]] : []),
    redis: () => (redis ? [[redis, false]] : []),
  };
}

/** `correoGroups` for a suite's isolated infrastructure (packages/testkit): its servers' ports and its database. */
function correoGroupsOf(infra, startPid) {
  const port = (u, d) => Number(new URL(u).port || d);
  return correoGroups({
    startPid,
    pgPort: port(infra.databaseUrl, 5432),
    amqpPort: port(infra.amqpUrl, 5672),
    redisPort: port(infra.redisUrl, 6379),
    database: new URL(infra.databaseUrl).pathname.slice(1),
  });
}

/** Postfix (master and its workers) and Dovecot (master and its workers). */
function anchorGroups() {
  const pidFile = (path) => {
    try {
      return Number(readFileSync(path, "utf8").trim());
    } catch {
      return undefined;
    }
  };
  const group = (path) => () => {
    const root = pidFile(path);
    return root ? tree(root, true).map((pid) => [pid, true]) : [];
  };
  return { postfix: group("/var/spool/postfix/pid/master.pid"), dovecot: group("/run/dovecot/master.pid") };
}

module.exports = { meter, correoGroups, correoGroupsOf, anchorGroups, listener, tree };
