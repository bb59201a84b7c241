import { describe, expect, it } from "vitest";
import { isDependencyUnavailable } from "../src/unavailable.js";

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe("isDependencyUnavailable", () => {
  it.each([
    ["a refused connection", withCode("connect ECONNREFUSED 127.0.0.1:5432", "ECONNREFUSED")],
    ["a backend terminated by a restart (57P01)", withCode("terminating connection due to administrator command", "57P01")],
    ["PostgreSQL starting up (57P03)", withCode("the database system is starting up", "57P03")],
    ["a connection exception (08006)", withCode("connection failure", "08006")],
    ["too many connections (53300)", withCode("sorry, too many clients already", "53300")],
    ["a lost pg connection", new Error("Connection terminated unexpectedly")],
    ["a pool that cannot connect", new Error("timeout exceeded when trying to connect")],
    ["a database refusing connections", withCode('database "x" is not currently accepting connections', "55000")],
    ["ioredis giving up", Object.assign(new Error("Reached the max retries per request limit"), { name: "MaxRetriesPerRequestError" })],
    ["a wrapped cause", new Error("lookup failed", { cause: withCode("read ECONNRESET", "ECONNRESET") })],
    ["each address refused", Object.assign(new AggregateError([withCode("connect ECONNREFUSED ::1:5432", "ECONNREFUSED")]), { message: "" })],
  ])("is true for %s", (_, err) => expect(isDependencyUnavailable(err)).toBe(true));

  it.each([
    ["a constraint violation (23505)", withCode("duplicate key value violates unique constraint", "23505")],
    ["a syntax error (42601)", withCode("syntax error at or near", "42601")],
    ["a programming error", new TypeError("cannot read properties of undefined")],
    ["not an error", "nope"],
  ])("is false for %s", (_, err) => expect(isDependencyUnavailable(err)).toBe(false));
});
