import { describe, expect, it } from "vitest";
import { fieldErrors } from "../src/index.js";

describe("fieldErrors", () => {
  it("names unknown, missing and malformed fields the way a client can act on", () => {
    expect(
      fieldErrors("body", [
        { instancePath: "", keyword: "additionalProperties", params: { additionalProperty: "colour" }, message: "must NOT have additional properties" },
        { instancePath: "", keyword: "required", params: { missingProperty: "from" }, message: "must have required property 'from'" },
        { instancePath: "/to/1", keyword: "pattern", params: { pattern: "^[^\\r\\n]*$" }, parentSchema: { description: "an address" }, message: "must match pattern" },
        { instancePath: "/limit", keyword: "maximum", params: { limit: 200 }, message: "must be <= 200" },
      ]),
    ).toEqual([
      { field: "body.colour", message: "is not a known field" },
      { field: "body.from", message: "is required" },
      { field: "body.to.1", message: "must be an address" },
      { field: "body.limit", message: "must be <= 200" },
    ]);
  });
});
