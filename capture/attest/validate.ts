// JSON Schema validation (ajv) that reports the first problem as one line a person can act on,
// e.g. `/rules/0/maxSize must be >= 1`.
import { Ajv, type ErrorObject, type SchemaObject } from "ajv";

const ajv = new Ajv({ allErrors: false, strict: true, strictRequired: false, allowUnionTypes: true }) // strictRequired would reject the conditional `then: {required}`;

export type Check<T> = (value: unknown) => { ok: true; value: T } | { ok: false; problem: string };

export function compile<T>(schema: SchemaObject): Check<T> {
  const validate = ajv.compile(schema);
  return (value) => (validate(value) ? { ok: true, value: value as T } : { ok: false, problem: describe(validate.errors?.[0]) });
}

function describe(e: ErrorObject | undefined): string {
  if (!e) return "invalid";
  const at = e.instancePath || "(top level)";
  if (e.keyword === "additionalProperties") return `${at}: unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`;
  if (e.keyword === "enum") return `${at} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
  return `${at} ${e.message ?? "is invalid"}`;
}
