import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import { contracts, type EventOf, type EventType } from "./messages.js";

const checkers = Object.fromEntries(
  Object.entries(contracts).map(([type, schema]) => [type, TypeCompiler.Compile(schema)]),
) as { [T in EventType]: TypeCheck<(typeof contracts)[T]> };

export class ContractError extends Error {
  constructor(
    readonly eventType: string,
    readonly problems: string[],
  ) {
    super(`invalid ${eventType} event: ${problems.join("; ")}`);
    this.name = "ContractError";
  }
}

/** Validates an untrusted document against the contract of `type`; throws ContractError with every problem. */
export function parseEvent<T extends EventType>(type: T, doc: unknown): EventOf<T> {
  const check = checkers[type];
  if (!check) throw new ContractError(type, ["unknown event type"]);
  if (check.Check(doc)) return doc as EventOf<T>;
  const problems = [...check.Errors(doc)].slice(0, 10).map((e) => `${e.path || "/"}: ${e.message}`);
  throw new ContractError(type, problems);
}

export function isEventType(type: string): type is EventType {
  return Object.prototype.hasOwnProperty.call(contracts, type);
}
