import { ConfigError, infraSpec, loadConfig } from "@correo/config";
import { prepareInfra } from "./infra-setup.js";

/** `pnpm migrate`: applies database migrations and declares the broker topology, then exits. */
async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig(infraSpec);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 78;
    }
    throw err;
  }
  return (await prepareInfra(config, (l) => process.stdout.write(l + "\n"))) ? 0 : 69;
}

main().then((code) => (process.exitCode = code));
