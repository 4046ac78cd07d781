/**
 * @longrun/worker: run a function as a long-running operation on a longrun server, near or far
 * (only its endpoint is needed). The function gets an `AbortSignal` that fires when a consumer
 * asks to cancel, and a `progress` callback; its return value or thrown error becomes the
 * operation's result, recorded even across a server restart.
 *
 * ```ts
 * import { runOperation } from '@longrun/worker';
 *
 * const operation = await runOperation(
 *   'projects/demo',
 *   async ({ name, signal, progress }) => {
 *     console.log('running', name);
 *     for (let percent = 0; percent <= 100; percent += 10) {
 *       signal.throwIfAborted(); // A cancel request ends the operation CANCELLED.
 *       progress({ percent });
 *       await new Promise((resolve) => setTimeout(resolve, 100));
 *     }
 *     return { '@type': 'type.googleapis.com/demo.Result', rows: 1234 };
 *   },
 *   { client: { endpoint: 'http://127.0.0.1:8080' } },
 * );
 * console.log(operation.response);
 * ```
 */
export {
  type OperationContext,
  type OperationHandler,
  type RunOperationOptions,
  runOperation,
} from './run-operation.js';
export { CANCELLED_STATUS, toAny, toStatus } from './values.js';
