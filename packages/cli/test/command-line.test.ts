import { describe, expect, it } from "vitest";
import { readCommandLine, type CommandTable } from "../src/command-line.js";
import { nearest } from "../src/suggest.js";
import { accountCommands } from "../src/commands/account.js";
import { domainCommands } from "../src/commands/domain.js";
import { queueCommands } from "../src/commands/queue.js";
import { doctorCommand } from "../src/commands/doctor.js";

// The real command tables; reading the command line touches nothing.
const table: CommandTable = {
  nouns: { domain: domainCommands, account: accountCommands, queue: queueCommands },
  commands: { doctor: doctorCommand },
  nounSummaries: { account: "accounts: passwords, quotas, enabled or not" },
};
const read = (line: string) => readCommandLine(line.split(" ").filter(Boolean), table);

describe("the command line", () => {
  it("names an unknown noun with the nearest one", () => {
    expect(read("domian list")).toMatchObject({ kind: "usage", message: "unknown command 'domian'; did you mean 'domain'?" });
    expect(read("zzzz list")).toMatchObject({ kind: "usage", message: "unknown command 'zzzz'" });
  });

  it("names an unknown verb with the nearest one and lists the noun's verbs", () => {
    const r = read("account ad x@y.test");
    expect(r).toMatchObject({ kind: "usage", message: "'account' has no verb 'ad'; did you mean 'account add'?" });
    expect(r.kind === "usage" && r.help).toContain("correo account passwd <address>");
  });

  it("refuses an unknown flag, suggesting the declared one it is nearest to", () => {
    expect(read("account add ana@x.test --pasword secret-1")).toMatchObject({
      kind: "usage",
      message: "unknown flag --pasword for 'account add'; did you mean --password?",
    });
    // A flag another command takes is unknown here: `account remove` takes no --quota.
    expect(read("account remove ana@x.test --quota 1G")).toMatchObject({ kind: "usage", message: "unknown flag --quota for 'account remove'" });
    expect(read("queue list --older 2h")).toMatchObject({ message: "unknown flag --older for 'queue list'; did you mean --older-than?" });
  });

  it("refuses a value flag without its value, and a value given to a switch", () => {
    expect(read("account add ana@x.test --quota")).toMatchObject({ kind: "usage", message: expect.stringMatching(/--quota <value>' argument missing/) });
    expect(read("queue list --held=yes")).toMatchObject({ kind: "usage", message: expect.stringMatching(/--held' does not take an argument/) });
  });

  it("takes --name value and --name=value alike; a value that starts with a dash needs the =", () => {
    expect(read("account add ana@x.test --password -secret-1")).toMatchObject({ kind: "usage", message: expect.stringMatching(/'--password=-XYZ'/) });
    const r = read("account add ana@x.test --password=-secret-1 --quota 1G --json");
    expect(r).toMatchObject({ kind: "run", name: "account add", args: ["ana@x.test"], flags: { password: "-secret-1", quota: "1G", json: true } });
    expect(read("queue retry --domain example.net")).toMatchObject({ kind: "run", args: [], flags: { domain: "example.net" } });
  });

  it("shows a noun's verbs for `correo account` and `correo account --help`", () => {
    const help = read("account --help");
    expect(help).toMatchObject({ kind: "help", exitCode: 0 });
    expect(help.kind === "help" && help.text).toMatch(/^correo account: accounts: passwords, quotas, enabled or not\n/);
    for (const verb of Object.keys(accountCommands)) expect(help.kind === "help" && help.text).toContain(`correo account ${verb}`);
    expect(read("account")).toMatchObject({ kind: "usage", message: "'account' needs a verb", help: help.kind === "help" && help.text });
  });

  it("shows one verb's usage and flags for `correo account add --help` (and `correo help account add`)", () => {
    const help = read("account add --help");
    expect(help).toMatchObject({ kind: "help", exitCode: 0 });
    const text = help.kind === "help" ? help.text : "";
    expect(text).toMatch(/^usage: correo account add <address> \(--password <password> \| --password-stdin\)/);
    expect(text).toMatch(/--quota <size>\s+largest mailbox size/);
    expect(text).not.toContain("--catch-all");
    expect(read("help account add")).toEqual(help);
  });

  it("lists every noun for `correo` (exit 2) and `correo --help` (exit 0)", () => {
    expect(read("")).toMatchObject({ kind: "help", exitCode: 2 });
    const help = read("--help");
    expect(help).toMatchObject({ kind: "help", exitCode: 0 });
    expect(help.kind === "help" && help.text).toMatch(/\n {2}doctor +check the DNS records/);
  });

  it("runs a command without a noun, such as doctor, with its argument", () => {
    expect(read("doctor example.test --resolver 127.0.0.1:5353")).toMatchObject({
      kind: "run",
      name: "doctor",
      args: ["example.test"],
      flags: { resolver: "127.0.0.1:5353" },
    });
  });
});

describe("did you mean", () => {
  it("counts a transposition as one typo, and takes a unique prefix", () => {
    expect(nearest("domian", ["domain", "account"])).toBe("domain");
    expect(nearest("acc", ["domain", "account", "alias"])).toBe("account");
    expect(nearest("a", ["account", "alias"])).toBeUndefined();
    expect(nearest("transport", ["queue"])).toBeUndefined();
  });
});
