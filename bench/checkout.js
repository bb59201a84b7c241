// Where a bench finds Correo: the packages' builds of this checkout, and the services'
// builds of CORREO_ROOT=<checkout> when it is set (to measure another build, e.g. the one
// before a change, with this checkout's harness); and its positional arguments.
"use strict";
const { join } = require("node:path");

const root = join(__dirname, "..");
const servicesRoot = process.env.CORREO_ROOT ?? root;

/** packages/<name> of this checkout, from its build (`pnpm build` first). */
const correoPackage = (name) => require(join(root, "packages", name, "dist", "index.js"));

/** The command line's positional arguments as numbers, `defaults[i]` for each one not given. */
const numberArgs = (...defaults) => defaults.map((fallback, i) => Number(process.argv[2 + i] ?? fallback));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

module.exports = { root, servicesRoot, correoPackage, numberArgs, sleep };
