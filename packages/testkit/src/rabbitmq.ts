import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * Closes, from the broker's side, every connection whose client-provided name
 * contains `namePart` — what a RabbitMQ restart does to a client — using the local
 * `rabbitmqctl`. Returns how many were closed.
 */
export async function forceCloseConnections(namePart: string): Promise<number> {
  const { stdout } = await run("rabbitmqctl", ["list_connections", "pid", "client_properties", "--no-table-headers", "-q"]);
  const pids = stdout
    .split("\n")
    .filter((line) => line.includes(`{"connection_name","`) && line.includes(namePart))
    .map((line) => line.split("\t")[0]!)
    .filter(Boolean);
  for (const pid of pids) await run("rabbitmqctl", ["close_connection", pid, "closed by a Correo test"]);
  return pids.length;
}
