// A diagnostic target: Fastify configured as longrun configures it (pino logger at warn with
// request logging off, bodies read as strings by a catch-all parser, one `/*` route, a no-op
// querystring parser), answering what the baseline answers. Its distance from node:http is the
// framework's cost; longrun's distance from it is longrun's own code and store.
//
// Same configuration and output as servers/baseline.js (BENCH_BASELINE).
import Fastify, { LogController } from 'fastify';

const config = JSON.parse(process.env.BENCH_BASELINE ?? '{}');
const getBody = config.getBody ?? '{}';
const patchMetadata = config.patchMetadata ?? null;
const JSON_TYPE = 'application/json; charset=utf-8';

const app = Fastify({
  logger: { level: 'warn' },
  logController: new LogController({ disableRequestLogging: true }),
  bodyLimit: 4 * 1024 * 1024,
  routerOptions: { querystringParser: () => ({}) },
  return503OnClosing: false,
});
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

function resourceOf(url) {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  return path.slice(path.indexOf('/', 1) + 1);
}

app.route({
  method: ['GET', 'POST', 'PATCH'],
  url: '/*',
  handler: async (request, reply) => {
    if (request.method === 'GET') {
      reply.code(200).type(JSON_TYPE).send(getBody);
      return reply;
    }
    const body = JSON.parse(request.body);
    const resource = resourceOf(request.raw.url ?? '/');
    const text =
      request.method === 'POST'
        ? JSON.stringify({ name: `${resource}/${body.operationId}`, metadata: body.operation.metadata })
        : JSON.stringify({ name: resource, metadata: patchMetadata, done: true, response: body.operation.response });
    reply.code(200).type(JSON_TYPE).send(text);
    return reply;
  },
});

await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`fastify listening on http://127.0.0.1:${app.server.address().port}\n`);

function stop() {
  app.close().then(() => process.exit(0));
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
