/**
 * `update_mask` of a patch (AIP-134, AIP-161), in FieldMask's JSON form: comma-separated paths.
 * The updatable fields are the whole of `metadata`, `done`, `error` and `response`; `name` is
 * output-only and ignored, as AIP-161 asks.
 */
import { invalidField } from './errors.js';
import { type OperationField, type OperationInput, RESULT_FIELDS } from './operation.js';

const OUTPUT_ONLY = new Set(['name']);

/**
 * The fields a patch replaces. With no mask, the populated fields of the given operation;
 * with `*`, all of them (absent ones are cleared).
 */
export function updatedFields(mask: string | undefined, operation: OperationInput): OperationField[] {
  if (mask === undefined || mask.trim() === '') {
    return RESULT_FIELDS.filter((field) =>
      field === 'done' ? operation.done === true : operation[field] !== undefined,
    );
  }
  const fields = new Set<OperationField>();
  for (const raw of mask.split(',')) {
    const path = raw.trim();
    if (path === '*') {
      for (const field of RESULT_FIELDS) fields.add(field);
    } else if ((RESULT_FIELDS as readonly string[]).includes(path)) {
      fields.add(path as OperationField);
    } else if (!OUTPUT_ONLY.has(path)) {
      const top = path.split('.')[0] ?? '';
      const why = (RESULT_FIELDS as readonly string[]).includes(top)
        ? `"${path}": ${top} is replaced whole; name the field itself`
        : `"${path}" is not an updatable field (metadata, done, error, response, or *)`;
      throw invalidField('update_mask', why, 'INVALID_UPDATE_MASK');
    }
  }
  return [...fields];
}
