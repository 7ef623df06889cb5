// The smallest arguments a tool's JSON Schema (as tools/list shows it) accepts: what a scanner
// sends to get past input validation, to see whether the tool answers without payment.

/** Deepest nesting followed; deeper values are `"audit"` (objects `{}`). */
const MAX_DEPTH = 8;
/** Longest string or array synthesized (a schema's minLength or minItems beyond it is not met). */
const MAX_LENGTH = 64;
/**
 * Most values synthesized for one tool: nested arrays with large minItems (or long required
 * lists) would otherwise multiply, and a hostile server's small schema exhaust the auditor's memory.
 */
const MAX_VALUES = 1_000;

/** What is left of {@link MAX_VALUES} for one synthesis. */
interface Budget {
  left: number;
}

type Schema = Record<string, unknown>;

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The minimal value of a JSON Schema: its `const`, first `enum` value or `default` when it
 * has one; else by type: a string of `minLength` (`"audit"` when none), the `minimum` (0),
 * `false`, `null`, `minItems` minimal items, or an object of its required properties only.
 * Unions take their first branch. Never throws: an unreadable schema gives `"audit"`.
 */
function minimalValue(schema: unknown, depth = 0, budget: Budget = { left: MAX_VALUES }): unknown {
  if (!isSchema(schema) || depth > MAX_DEPTH || --budget.left < 0) return 'audit';
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if ('default' in schema) return schema.default;
  const branch = [schema.anyOf, schema.oneOf, schema.allOf].find((b) => Array.isArray(b) && b.length > 0) as unknown[] | undefined;
  if (branch) return minimalValue(branch[0], depth + 1, budget);
  const type = Array.isArray(schema.type) ? (schema.type.find((t) => t !== 'null') ?? schema.type[0]) : schema.type;
  switch (type) {
    case 'string': {
      const length = Math.min(MAX_LENGTH, typeof schema.minLength === 'number' ? schema.minLength : 0);
      return length > 5 ? 'a'.repeat(length) : 'audit';
    }
    case 'integer':
    case 'number': {
      const low = typeof schema.minimum === 'number' ? schema.minimum : typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum + 1 : 0;
      const high = typeof schema.maximum === 'number' ? schema.maximum : Infinity;
      const value = Math.min(Math.max(0, low), high);
      return type === 'integer' ? Math.ceil(value) : value;
    }
    case 'boolean':
      return false;
    case 'null':
      return null;
    case 'array': {
      const count = Math.min(MAX_LENGTH, typeof schema.minItems === 'number' ? schema.minItems : 0);
      const items: unknown[] = [];
      while (items.length < count && budget.left > 0) items.push(minimalValue(schema.items, depth + 1, budget));
      return items;
    }
    case 'object':
      return minimalArguments(schema, depth + 1, budget);
    default:
      return isSchema(schema.properties) ? minimalArguments(schema, depth + 1, budget) : 'audit';
  }
}

/** An object with the schema's required properties only, each minimal; `{}` when none are required or past {@link MAX_DEPTH}; at most {@link MAX_VALUES} values in all. */
export function minimalArguments(schema: unknown, depth = 0, budget: Budget = { left: MAX_VALUES }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!isSchema(schema) || depth > MAX_DEPTH || !Array.isArray(schema.required)) return out;
  const properties = isSchema(schema.properties) ? schema.properties : {};
  for (const name of schema.required) {
    if (typeof name === 'string' && budget.left > 0) out[name] = minimalValue(properties[name], depth, budget);
  }
  return out;
}

/** Whether the schema requires any property: only then is a second call, with minimal arguments, worth making. */
export function requiresArguments(schema: unknown): boolean {
  return isSchema(schema) && Array.isArray(schema.required) && schema.required.length > 0;
}
