// The baseline: a bare node:http server answering the same JSON as longrun, with no framework,
// no validation and no storage. It is what HTTP + JSON cost on this machine; longrun's figures
// are read as a ratio to it.
//
// Configuration comes in the BENCH_BASELINE environment variable (JSON):
//   getBody      the exact bytes longrun answers for the seeded GET (served for every GET)
//   patchMetadata the metadata Any a patched operation carries (echoed back in PATCH answers)
// POST (create) parses the body and answers {name, metadata} built from it; PATCH parses the
// body and answers {name, metadata, done, response}; both come out byte-for-byte the size of
// longrun's answers, which the harness checks before measuring.
//
// Prints `baseline listening on http://127.0.0.1:PORT` once listening, like `longrun serve`.
import { createServer } from 'node:http';

const config = JSON.parse(process.env.BENCH_BASELINE ?? '{}');
const getBody = Buffer.from(config.getBody ?? '{}');
const patchMetadata = config.patchMetadata ?? null;
const JSON_TYPE = 'application/json; charset=utf-8';

/** The operation's name from `/v1/{name}`, or the parent from `/v1/{parent}/operations`. */
function resourceOf(url) {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  return path.slice(path.indexOf('/', 1) + 1);
}

function answer(res, status, text) {
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readJson(req, then) {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      then(undefined);
      return;
    }
    then(body);
  });
}

const server = createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': getBody.length });
    res.end(getBody);
    return;
  }
  if (req.method === 'POST' || req.method === 'PATCH') {
    const resource = resourceOf(req.url ?? '/');
    readJson(req, (body) => {
      if (body === undefined || body.operation === undefined) {
        answer(res, 400, '{"error":{"code":400,"message":"bad body"}}');
        return;
      }
      const text =
        req.method === 'POST'
          ? JSON.stringify({ name: `${resource}/${body.operationId}`, metadata: body.operation.metadata })
          : JSON.stringify({ name: resource, metadata: patchMetadata, done: true, response: body.operation.response });
      answer(res, 200, text);
    });
    return;
  }
  answer(res, 405, '{"error":{"code":405,"message":"method not allowed"}}');
});

server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`baseline listening on http://127.0.0.1:${address.port}\n`);
});

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
