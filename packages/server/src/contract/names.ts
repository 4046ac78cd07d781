/**
 * Resource names. An operation's name is `{parent}/operations/{id}`, or `operations/{id}` at the
 * top level. The parent alternates collection and resource ids (`projects/p/instances/i`), so the
 * `operations` collection is the first segment at an even index; everything after it is the id,
 * which may hold slashes (`operations/build/my-proj/abc123`, as Cloud Build names them).
 */
import { invalidField } from './errors.js';

export const OPERATIONS_COLLECTION = 'operations';
/** The longest operation name accepted, in characters (the configurable limit may only lower it). */
export const MAX_NAME_LENGTH = 1024;
/** The longest operation id accepted (the part after `operations/`), in characters. */
export const MAX_ID_LENGTH = 256;
/** The parent segment that stands for "any" when listing across collections (AIP-159). */
export const WILDCARD = '-';

// RFC 3986 unreserved characters: safe in a URL path without escaping, and never a verb's `:`.
const SEGMENT = /^[A-Za-z0-9._~-]+$/;

export interface OperationName {
  name: string;
  parent: string;
  id: string;
}

function splitSegments(text: string, field: string): string[] {
  const segments = text.split('/');
  for (const segment of segments) {
    if (segment === '') throw invalidField(field, `"${text}" has an empty segment`, 'INVALID_NAME');
    if (!SEGMENT.test(segment)) {
      throw invalidField(
        field,
        `"${text}" has a segment with characters outside A-Z a-z 0-9 . _ ~ - ("${segment}")`,
        'INVALID_NAME',
      );
    }
  }
  return segments;
}

/** Index of the `operations` collection segment, or -1. */
function collectionIndex(segments: string[]): number {
  for (let i = 0; i < segments.length; i += 2) if (segments[i] === OPERATIONS_COLLECTION) return i;
  return -1;
}

function checkParentSegments(segments: string[], text: string, field: string, allowWildcard: boolean): void {
  if (segments.length % 2 !== 0) {
    throw invalidField(field, `"${text}" is not a resource name (collection/id pairs)`, 'INVALID_NAME');
  }
  for (let i = 0; i < segments.length; i++) {
    if (segments[i] !== WILDCARD) continue;
    if (!allowWildcard || i % 2 === 0) {
      throw invalidField(field, `"${text}": "-" stands for any resource only when listing`, 'INVALID_NAME');
    }
  }
}

function checkLength(text: string, field: string, maxLength: number): void {
  if (text.length > maxLength) throw invalidField(field, `longer than ${maxLength} characters`, 'INVALID_NAME');
}

/** Parses and validates an operation's full name. */
export function parseOperationName(name: string, field = 'name', maxLength = MAX_NAME_LENGTH): OperationName {
  checkLength(name, field, maxLength);
  if (name === '') throw invalidField(field, 'is required', 'INVALID_NAME');
  const segments = splitSegments(name, field);
  const at = collectionIndex(segments);
  if (at < 0 || at === segments.length - 1) {
    throw invalidField(field, `"${name}" does not name an operation ({parent}/operations/{id})`, 'INVALID_NAME');
  }
  const parentSegments = segments.slice(0, at);
  checkParentSegments(parentSegments, name, field, false);
  const id = segments.slice(at + 1).join('/');
  if (id.length > MAX_ID_LENGTH)
    throw invalidField(field, `the id is longer than ${MAX_ID_LENGTH} characters`, 'INVALID_NAME');
  return { name, parent: parentSegments.join('/'), id };
}

/** Validates a parent (`projects/p`, or `""` for top-level operations). */
export function parseParent(
  parent: string,
  options: { field?: string; allowWildcard?: boolean; maxLength?: number } = {},
): string {
  const field = options.field ?? 'parent';
  if (parent === '') return '';
  checkLength(parent, field, options.maxLength ?? MAX_NAME_LENGTH);
  const segments = splitSegments(parent, field);
  if (collectionIndex(segments) >= 0) {
    throw invalidField(field, `"${parent}" is inside an operation; operations have no children`, 'INVALID_NAME');
  }
  checkParentSegments(segments, parent, field, options.allowWildcard ?? false);
  return parent;
}

/**
 * The parent a list covers. Both conventions of ListOperationsRequest.name are accepted: the
 * parent itself (`projects/p`, as Cloud Run sends it) and the collection (`projects/p/operations`,
 * as Spanner does); `operations` and `""` mean the top level.
 */
export function parseListName(name: string, field = 'name', maxLength = MAX_NAME_LENGTH): string {
  if (name === OPERATIONS_COLLECTION) return '';
  const suffix = `/${OPERATIONS_COLLECTION}`;
  const parent = name.endsWith(suffix) ? name.slice(0, -suffix.length) : name;
  return parseParent(parent, { field, allowWildcard: true, maxLength });
}

/** Joins a parent and an id into the operation's name. */
export function operationName(parent: string, id: string): string {
  return parent === '' ? `${OPERATIONS_COLLECTION}/${id}` : `${parent}/${OPERATIONS_COLLECTION}/${id}`;
}

/** Validates a caller-chosen operation id (slashes allowed between non-empty segments). */
export function checkOperationId(id: string, field = 'operation_id'): string {
  if (id.length > MAX_ID_LENGTH) throw invalidField(field, `longer than ${MAX_ID_LENGTH} characters`, 'INVALID_NAME');
  splitSegments(id, field);
  return id;
}

/** True when the parent has a `-` segment, so it names several collections. */
export function hasWildcard(parent: string): boolean {
  return parent.split('/').includes(WILDCARD);
}

/** A regular expression for the parents a wildcard pattern covers. */
export function parentPattern(parent: string): RegExp {
  const source = parent
    .split('/')
    .map((segment) => (segment === WILDCARD ? '[^/]+' : segment.replace(/[.~-]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}
