// The protocol as the web app uses it: the labels, statement kinds and catalogue generated from
// wallet/protocol (web/src/generated/protocol.js, never edited by hand), and the builder and
// checker of signed statements (Kind.build and Kind.check in wallet/protocol/statements.py).
import { info, STATEMENTS } from "./generated/protocol.js";
import { utf8 } from "./crypto/encoding.js";

export * from "./generated/protocol.js";

export class StatementError extends Error {}

/** `label|part|part...` as UTF-8 bytes (labels.info in Python). */
export const infoBytes = (label, ...context) => utf8(info(label, ...context));

function hasType(value, type) {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "integer":
      return Number.isSafeInteger(value);
    case "boolean":
      return typeof value === "boolean";
    case "array":
      return Array.isArray(value);
    case "object":
      return value !== null && typeof value === "object" && !Array.isArray(value);
    case "string|null":
      return value === null || typeof value === "string";
    default:
      throw new StatementError(`unknown field type ${type}`);
  }
}

/** Returns `value` if it is a well-formed statement of `kind` (field set and types). */
export function checkStatement(kind, value) {
  const spec = STATEMENTS[kind];
  if (!spec) throw new StatementError(`${kind} is not a statement kind`);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new StatementError(`a ${kind} statement is a JSON object`);
  }
  if (value.kind !== kind || value.v !== spec.v) {
    throw new StatementError(`not a ${kind} statement of version ${spec.v}`);
  }
  const present = Object.keys(value).filter((name) => value[name] !== undefined);
  const unknown = present.filter((name) => name !== "v" && name !== "kind" && !(name in spec.fields)).sort();
  if (unknown.length) throw new StatementError(`unknown field '${unknown[0]}' in a ${kind} statement`);
  for (const [name, type] of Object.entries(spec.fields)) {
    if (value[name] === undefined) {
      if (spec.optional.includes(name)) continue;
      throw new StatementError(`the field '${name}' is missing`);
    }
    if (!hasType(value[name], type)) throw new StatementError(`the field '${name}' is not of type ${type}`);
  }
  return value;
}

/** The statement { v, kind, ...fields }; refuses a missing, unknown or mistyped field. An
 * undefined field is left out, as canonical JSON leaves it out. */
export function statement(kind, fields) {
  const spec = STATEMENTS[kind];
  if (!spec) throw new StatementError(`${kind} is not a statement kind`);
  const value = { v: spec.v, kind };
  for (const [name, field] of Object.entries(fields)) if (field !== undefined) value[name] = field;
  return checkStatement(kind, value);
}
