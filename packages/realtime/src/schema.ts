/**
 * Validation with any Standard Schema (zod, valibot, arktype…). Standard Schema reports failure by
 * returning `issues`, never by throwing — 0.4.7 only caught throws, so its publish-side validation
 * never rejected anything (W13). Here `issues` is the failure.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';

export type Validated =
  | { ok: true; value: unknown }
  | { ok: false; issues: readonly StandardSchemaV1.Issue[] };

function settle(result: StandardSchemaV1.Result<unknown>): Validated {
  return result.issues ? { ok: false, issues: result.issues } : { ok: true, value: result.value };
}

/**
 * Validates `data`; synchronous when the schema is (so message order is kept without waiting),
 * a promise otherwise.
 */
export function validate(schema: StandardSchemaV1, data: unknown): Validated | Promise<Validated> {
  const result = schema['~standard'].validate(data);
  return result instanceof Promise ? result.then(settle) : settle(result);
}

export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    '~standard' in value &&
    typeof (value as StandardSchemaV1)['~standard']?.validate === 'function'
  );
}
