/** The actions rspamd's scan answer can name (rspamd's actions.conf and pre-results). */
export const RSPAMD_ACTIONS = ["reject", "soft reject", "rewrite subject", "add header", "greylist", "no action"] as const;
export type RspamdAction = (typeof RSPAMD_ACTIONS)[number];

export interface HeaderField {
  name: string;
  value: string;
}

/** The parts of rspamd's /checkv2 answer that Correo acts on or records. */
export interface RspamdAnswer {
  action: RspamdAction;
  score: number;
  requiredScore: number;
  symbols: { name: string; score: number; options: string[] }[];
  /** The rewritten subject, with action "rewrite subject" (rspamd's actions { subject = … }). */
  subject?: string | undefined;
  /** Header edits asked for by rspamd's milter_headers module (or a rule's task:set_milter_reply). */
  addHeaders: HeaderField[];
  removeHeaders: string[];
  /** rspamd stopped early (GTUBE, a pre-result): the score is the action's threshold. */
  skipped: boolean;
}

type Parsed = { ok: true; answer: RspamdAnswer } | { ok: false; problem: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** milter.add_headers values are a string, {value, order}, or a list of those (one field each). */
function milterValues(v: unknown): string[] | undefined {
  if (typeof v === "string") return [v];
  if (isObject(v) && typeof v.value === "string") return [v.value];
  if (Array.isArray(v)) {
    const all = v.map(milterValues);
    return all.every((x) => x !== undefined) ? all.flat() : undefined;
  }
  return undefined;
}

/** Reads the JSON body of a /checkv2 answer; says precisely what is wrong with one it cannot use. */
export function parseAnswer(body: string): Parsed {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, problem: `answer is not JSON: '${body.slice(0, 80)}'` };
  }
  if (!isObject(json)) return { ok: false, problem: "answer is not a JSON object" };
  if (typeof json.error === "string") return { ok: false, problem: `rspamd reported an error: ${json.error}` };
  const { action, score, required_score: requiredScore } = json;
  if (typeof action !== "string" || !(RSPAMD_ACTIONS as readonly string[]).includes(action)) {
    return { ok: false, problem: `answer has no known action, got ${JSON.stringify(action)}` };
  }
  if (typeof score !== "number" || !Number.isFinite(score)) return { ok: false, problem: `answer's score is not a number, got ${JSON.stringify(score)}` };
  if (typeof requiredScore !== "number" || !Number.isFinite(requiredScore)) {
    return { ok: false, problem: `answer's required_score is not a number, got ${JSON.stringify(requiredScore)}` };
  }
  const symbols: RspamdAnswer["symbols"] = [];
  if (isObject(json.symbols)) {
    for (const [name, s] of Object.entries(json.symbols)) {
      if (!isObject(s)) continue;
      const options = Array.isArray(s.options) ? s.options.filter((o): o is string => typeof o === "string") : [];
      symbols.push({ name, score: typeof s.score === "number" ? s.score : 0, options });
    }
  }
  const addHeaders: HeaderField[] = [];
  const removeHeaders: string[] = [];
  if (json.milter !== undefined) {
    if (!isObject(json.milter)) return { ok: false, problem: "answer's milter is not an object" };
    const { add_headers: add, remove_headers: remove } = json.milter;
    if (add !== undefined) {
      if (!isObject(add)) return { ok: false, problem: "answer's milter.add_headers is not an object" };
      for (const [name, v] of Object.entries(add)) {
        const values = milterValues(v);
        if (!values) return { ok: false, problem: `answer's milter.add_headers.${name} is neither a string nor {value}` };
        for (const value of values) addHeaders.push({ name, value });
      }
    }
    if (remove !== undefined) {
      if (!isObject(remove)) return { ok: false, problem: "answer's milter.remove_headers is not an object" };
      removeHeaders.push(...Object.keys(remove));
    }
  }
  if (json.subject !== undefined && typeof json.subject !== "string") return { ok: false, problem: "answer's subject is not a string" };
  return {
    ok: true,
    answer: {
      action: action as RspamdAction,
      score,
      requiredScore,
      symbols,
      subject: json.subject as string | undefined,
      addHeaders,
      removeHeaders,
      skipped: json.is_skipped === true,
    },
  };
}
