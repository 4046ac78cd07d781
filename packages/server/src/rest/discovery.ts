/**
 * The discovery document (`GET /$discovery/rest?version=v1`) that Google's discovery-based
 * clients build from. Placeholder: the document is written in its own issue.
 */
import { ApiError } from '../contract/errors.js';

/** The discovery document for `version`, with `rootUrl` the server's own address (ending in `/`). */
export function discoveryDocument(_rootUrl: string, version: string): unknown {
  throw new ApiError('NOT_SUPPORTED', `No discovery document is served yet (version ${version})`);
}
