import { describe, expect, it } from "vitest";
import { parseCompress } from "../src/syntax/compress.js";
import { argsOf, refusalOf } from "./command-line.js";

describe("COMPRESS arguments (RFC 4978 §3)", () => {
  it.each(["a COMPRESS DEFLATE", "a compress deflate"])("%s asks for DEFLATE", (line) => {
    expect(parseCompress(argsOf(line))).toBe("DEFLATE");
  });

  it.each([
    ["a COMPRESS", "COMPRESS takes one mechanism, DEFLATE"],
    ["a COMPRESS DEFLATE DEFLATE", "COMPRESS takes one mechanism, DEFLATE"],
    ['a COMPRESS "DEFLATE"', "COMPRESS takes one mechanism, DEFLATE"],
    ["a COMPRESS LZ4", "unknown compression mechanism LZ4"],
  ])("%s is BAD: %s", (line, text) => {
    expect(refusalOf(() => parseCompress(argsOf(line)))).toEqual({ status: "BAD", text });
  });
});
