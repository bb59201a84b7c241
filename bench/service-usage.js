#!/usr/bin/env node
// VmRSS and CPU of the five services of a running `pnpm start`, over a window: the
// figures behind the requests and limits of deploy/kubernetes (docs/kubernetes.md).
//
//   node bench/service-usage.js <pid of scripts/dist/start.js> [seconds]
//
// Samples /proc/<pid>/status (VmRSS) every 250 ms and prints per service the RSS at the
// start, the highest sampled, VmHWM (the kernel's own peak since the process started),
// and the CPU seconds (utime+stime of /proc/<pid>/stat) used in the window. Without
// `seconds` it runs until SIGTERM or SIGINT, so a load script can bracket it:
//   node bench/service-usage.js $RUNNER & S=$!; ./load.sh; kill $S
"use strict";
const { readFileSync, readdirSync } = require("node:fs");

const [runner, seconds = 0] = process.argv.slice(2).map(Number);
if (!runner) {
  process.stderr.write("usage: node bench/service-usage.js <pid of scripts/dist/start.js> [seconds]\n");
  process.exit(2);
}
const services = ["submission", "routing", "relay-queue", "mailbox", "retrieval"];
const TICK = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux

/** The service processes, children of the runner, by name. */
function servicePids() {
  const found = {};
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) !== runner) continue;
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      const name = services.find((s) => cmd.includes(`/services/${s}/dist/main.js`));
      if (name) found[name] = Number(entry);
    } catch {
      /* exited meanwhile */
    }
  }
  return found;
}

const statusMiB = (pid, field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICK;
}

const pids = servicePids();
if (Object.keys(pids).length !== services.length) {
  process.stderr.write(`found ${Object.keys(pids).join(", ") || "no services"} under pid ${runner}\n`);
  process.exit(1);
}
const started = Date.now();
const usage = Object.fromEntries(
  Object.entries(pids).map(([name, pid]) => {
    const rss = statusMiB(pid, "VmRSS");
    return [name, { pid, cpu: cpuSeconds(pid), first: rss, peak: rss }];
  }),
);
let stopAt = seconds > 0 ? started + seconds * 1000 : Infinity;
const stop = () => (stopAt = 0);
process.once("SIGTERM", stop);
process.once("SIGINT", stop);

const timer = setInterval(() => {
  for (const u of Object.values(usage)) u.peak = Math.max(u.peak, statusMiB(u.pid, "VmRSS"));
  if (Date.now() < stopAt) return;
  clearInterval(timer);
  const wall = (Date.now() - started) / 1000;
  console.log(`window ${wall.toFixed(1)} s; MiB`);
  for (const name of services) {
    const u = usage[name];
    const cpu = cpuSeconds(u.pid) - u.cpu;
    console.log(
      `${name.padEnd(12)} rss ${u.first.toFixed(1)} → peak ${u.peak.toFixed(1)} (VmHWM ${statusMiB(u.pid, "VmHWM").toFixed(1)})  ` +
        `cpu ${cpu.toFixed(2)} s = ${((cpu / wall) * 1000).toFixed(0)} mCPU`,
    );
  }
}, 250);
