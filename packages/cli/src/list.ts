/** `longrun list [PARENT]`: operations under a parent, newest first, a page or all of them. */
import { InvalidArgumentError } from '@commander-js/extra-typings';
import type { ListOperationsRequest, Operation } from '@longrun/client';
import { clientCommand, printJson, printText, withClient } from './command.js';
import { operationsTable } from './format.js';

function parsePageSize(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('a whole number is expected');
  return Number(value);
}

function printOperations(operations: Operation[]): void {
  printText(operations.length === 0 ? 'No operations.' : operationsTable(operations));
}

export function listCommand() {
  return clientCommand('list')
    .description('List operations, newest first')
    .argument(
      '[parent]',
      'the parent (projects/p) or its collection (projects/p/operations); the top level when omitted',
    )
    .option('--filter <filter>', 'an AIP-160 filter, such as "done = false"')
    .option('--page-size <n>', 'operations per page (the server defaults to 50, at most 1000)', parsePageSize)
    .option('--page-token <token>', "the page to list: a previous page's nextPageToken")
    .option('--all', 'list every page, not just one')
    .action((parent, options) =>
      withClient(options, async (client) => {
        const request: ListOperationsRequest = {
          name: parent ?? '',
          filter: options.filter,
          pageSize: options.pageSize,
          pageToken: options.pageToken,
        };
        if (options.all) {
          const operations: Operation[] = [];
          for await (const operation of client.listAll(request)) operations.push(operation);
          // The one page all of them would make, in proto3 JSON (an empty list is omitted).
          if (options.json) printJson(operations.length === 0 ? {} : { operations });
          else printOperations(operations);
          return;
        }
        const page = await client.list(request);
        if (options.json) {
          printJson(page);
          return;
        }
        printOperations(page.operations ?? []);
        // On stderr: a hint for whoever reads the table, not part of it.
        if (page.nextPageToken) {
          process.stderr.write(
            `More operations: add --page-token ${page.nextPageToken}, or list them all with --all\n`,
          );
        }
      }),
    );
}
