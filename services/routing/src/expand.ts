import { addressKey, type RecipientStatus } from "@correo/directory";

/**
 * Alias expansion (RFC 5321 §3.9.1: an alias replaces the recipient with its list),
 * pure over an injected lookup: depth-first, loop-safe (an address already on the way
 * down is a loop, RFC 3463 X.4.6), depth-limited, and de-duplicated (each address is
 * expanded or kept once, however many lists name it).
 */
export interface ExpansionLimits {
  /** Nested aliases followed; Postfix's virtual_alias_recursion_limit is 1000, 10 is ample. */
  maxDepth: number;
  /** Final recipients one alias may produce (Postfix: virtual_alias_expansion_limit). */
  maxRecipients: number;
}

export const defaultLimits: ExpansionLimits = { maxDepth: 10, maxRecipients: 1000 };

export interface Leaf {
  /** The address as the alias lists it. */
  address: string;
  /** What the directory says about it: anything but `alias`. */
  status: Exclude<RecipientStatus, { kind: "alias" }>;
}

export interface Expansion {
  leaves: Leaf[];
  /** Loops, excess depth or size met on the way, each as one sentence; empty when none. */
  problems: string[];
}

export type Lookup = (address: string) => Promise<RecipientStatus>;

export async function expandAlias(
  root: { address: string; targets: string[] },
  lookup: Lookup,
  limits: ExpansionLimits = defaultLimits,
): Promise<Expansion> {
  const leaves: Leaf[] = [];
  const problems: string[] = [];
  const keyOf = (a: string) => addressKey(a) ?? a.toLowerCase();
  const rootKey = keyOf(root.address);
  const seen = new Set<string>([rootKey]);

  async function visit(targets: string[], path: { key: string; address: string }[]): Promise<void> {
    for (const target of targets) {
      const key = keyOf(target);
      const loopAt = path.findIndex((p) => p.key === key);
      if (loopAt >= 0) {
        problems.push(`alias loop: ${[...path.slice(loopAt).map((p) => p.address), target].join(" → ")}`);
        continue;
      }
      if (seen.has(key)) continue;
      seen.add(key);
      const status = await lookup(target);
      if (status.kind === "alias") {
        if (path.length >= limits.maxDepth) {
          problems.push(`aliases nested deeper than ${limits.maxDepth} at ${target}`);
          continue;
        }
        await visit(status.targets, [...path, { key, address: target }]);
        continue;
      }
      if (leaves.length >= limits.maxRecipients) {
        problems.push(`expansion stopped at ${limits.maxRecipients} recipients`);
        return;
      }
      leaves.push({ address: target, status });
    }
  }

  await visit(root.targets, [{ key: rootKey, address: root.address }]);
  return { leaves, problems: [...new Set(problems)] };
}
