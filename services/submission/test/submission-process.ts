import { freePort, spawnService, type IsolatedInfra, type RunningProcess } from "@correo/testkit";

/** The listeners of one submission process; spawnSubmission() fills them with free ports. */
export interface SubmissionPorts {
  mx: number;
  submission: number;
  smtps: number;
  http: number;
  ops: number;
}

export const submissionPorts = (): SubmissionPorts => ({ mx: 0, submission: 0, smtps: 0, http: 0, ops: 0 });

/**
 * Spawns the submission service on `infra` with every listener on a free port (written
 * into `ports`); `extraEnv` sets configuration on top. The caller waits for it to be ready.
 */
export async function spawnSubmission(infra: IsolatedInfra, ports: SubmissionPorts, extraEnv: Record<string, string> = {}): Promise<RunningProcess> {
  for (const k of Object.keys(ports) as (keyof SubmissionPorts)[]) ports[k] = await freePort();
  return spawnService("submission", {
    ...infra.env,
    SUBMISSION_HTTP_PORT: String(ports.http),
    SMTP_MX_PORT: String(ports.mx),
    SMTP_SUBMISSION_PORT: String(ports.submission),
    SMTPS_PORT: String(ports.smtps),
    OPS_PORT: String(ports.ops),
    ...extraEnv,
  });
}
