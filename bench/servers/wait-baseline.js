// The wait baseline: a bare node:http server that parks `POST /v1/{name}:wait` requests in a
// Map and answers every parked request for a name when `PATCH /v1/{name}` arrives, with the
// bytes longrun answers (BENCH_WAIT_BODY). No validation, no storage: the HTTP and event-loop
// cost of holding and waking N requests on this machine. `POST /v1/…/operations` answers 200.
import http from 'node:http';

const body = Buffer.from(process.env.BENCH_WAIT_BODY ?? '{"done":true}');
const ack = Buffer.from('{"done":true}');
/** name → parked responses */
const parked = new Map();

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const url = req.url ?? '';
    if (req.method === 'POST' && url.endsWith(':wait')) {
      const name = url.slice(0, -5);
      let list = parked.get(name);
      if (!list) {
        list = [];
        parked.set(name, list);
      }
      list.push(res);
      return;
    }
    if (req.method === 'PATCH') {
      const list = parked.get(url);
      parked.delete(url);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': ack.length });
      res.end(ack);
      if (list) {
        for (const waiting of list) {
          waiting.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
          waiting.end(body);
        }
      }
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': ack.length });
    res.end(ack);
  });
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 0;
server.requestTimeout = 0;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
