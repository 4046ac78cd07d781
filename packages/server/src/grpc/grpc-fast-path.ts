/**
 * A lean path for the calls that dominate real traffic: unary gRPC with binary protobuf and no
 * compression (what google-gax, grpc-js, grpc-go, grpc-java and grpcio send by default). Measured
 * on this server, Connect-ES's generic pipeline (async iterables, abort signals, per-call
 * contexts) costs several times the CPU of the call itself (docs/grpc.md, "Benchmark"); this path
 * frames the one message by hand and runs the same interceptor and the same handlers, so no rule
 * and no answer differs. Everything else (gRPC-web, Connect, JSON codecs, compressed messages,
 * streaming, malformed timeouts) goes to Connect-ES, which handles it all.
 */
import type { Http2ServerRequest, Http2ServerResponse, IncomingHttpHeaders } from 'node:http2';
import {
  create,
  type DescMessage,
  type DescMethodUnary,
  fromBinary,
  isMessage,
  type MessageShape,
  toBinary,
} from '@bufbuild/protobuf';
import { base64Encode } from '@bufbuild/protobuf/wire';
import { anyPack } from '@bufbuild/protobuf/wkt';
import {
  Code,
  ConnectError,
  createContextKey,
  createContextValues,
  type HandlerContext,
  type Interceptor,
  type UnaryRequest,
  type UnaryResponse,
} from '@connectrpc/connect';
import { StatusSchema } from './gen/google/rpc/status_pb.js';

// biome-ignore lint/suspicious/noExplicitAny: a table of unary methods of different types
type AnyUnaryMethod = DescMethodUnary<any, any>;

export interface UnaryRoute {
  method: AnyUnaryMethod;
  /** The method's implementation, as registered with Connect. */
  impl: (request: never, context: HandlerContext) => unknown;
}

export interface FastPathOptions {
  /** By request path (`/google.longrunning.Operations/GetOperation`). */
  routes: ReadonlyMap<string, UnaryRoute>;
  /** The interceptors Connect runs, applied here in the same order. */
  interceptors: readonly Interceptor[];
  /** Largest request message, in bytes. */
  readMaxBytes: number;
}

const GRPC_TIMEOUT = /^(\d{1,8})([HMSmun])$/;
const TIMEOUT_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000_001 };

/**
 * A handler that answers the calls it can and returns true, or returns false (having touched
 * nothing) so the caller hands the request to Connect.
 */
export function createFastPath(
  options: FastPathOptions,
): (request: Http2ServerRequest, response: Http2ServerResponse) => boolean {
  // The interceptor chain, composed once per method; the innermost call finds its handler
  // context in the call's context values.
  const chains = new Map<string, { route: UnaryRoute; chain: Chain }>();
  for (const [path, route] of options.routes) {
    let next: Chain = async (call) => {
      const context = call.contextValues.get(HANDLER_CONTEXT)!;
      const output = await route.impl(call.message as never, context);
      return {
        stream: false,
        service: route.method.parent,
        method: route.method,
        header: context.responseHeader,
        trailer: context.responseTrailer,
        message: (isMessage(output, route.method.output)
          ? output
          : create(route.method.output, output as never)) as UnaryResponse['message'],
      };
    };
    for (const interceptor of [...options.interceptors].reverse()) {
      next = interceptor(next as never) as Chain;
    }
    chains.set(path, { route, chain: next });
  }
  return (request, response) => {
    if (request.method !== 'POST') return false;
    const type = request.headers['content-type'];
    if (type !== 'application/grpc' && type !== 'application/grpc+proto') return false;
    const encoding = request.headers['grpc-encoding'];
    if (encoding !== undefined && encoding !== 'identity') return false;
    const target = chains.get(request.url);
    if (!target) return false;
    const timeout = request.headers['grpc-timeout'];
    let timeoutMs: number | undefined;
    if (typeof timeout === 'string') {
      const match = GRPC_TIMEOUT.exec(timeout);
      if (!match) return false; // Connect answers a malformed timeout.
      timeoutMs = Number(match[1]) * TIMEOUT_UNIT_MS[match[2]!]!;
    }
    void serve(options.readMaxBytes, target.route, target.chain, request, response, timeoutMs);
    return true;
  };
}

type Chain = (request: UnaryRequest) => Promise<UnaryResponse>;

const HANDLER_CONTEXT = createContextKey<HandlerContext | undefined>(undefined);

async function serve(
  readMaxBytes: number,
  route: UnaryRoute,
  chain: Chain,
  request: Http2ServerRequest,
  response: Http2ServerResponse,
  timeoutMs: number | undefined,
): Promise<void> {
  const deadline = timeoutMs === undefined ? undefined : performance.now() + timeoutMs;
  // The signal is made only when a handler asks for it (a wait), and aborted only when the client
  // goes (cancel, deadline, reset): most calls never pay for an AbortController.
  let abort: AbortController | undefined;
  let closed = false;
  const cancelled = () => new ConnectError('the call was cancelled', Code.Canceled);
  const signal = () => {
    if (!abort) {
      abort = new AbortController();
      if (closed) abort.abort(cancelled());
    }
    return abort.signal;
  };
  const onClose = () => {
    if (response.writableEnded) return;
    closed = true;
    abort?.abort(cancelled());
  };
  response.once('close', onClose);
  const responseHeader = new LiteHeaders();
  const responseTrailer = new LiteHeaders();
  try {
    const body = await readBody(request, readMaxBytes);
    const message = decode(route.method.input, body);
    const header = LiteHeaders.of(request.headers);
    const values = createContextValues();
    const context: HandlerContext = {
      method: route.method,
      service: route.method.parent,
      get signal() {
        return signal();
      },
      timeoutMs: () => (deadline === undefined ? undefined : deadline - performance.now()),
      requestMethod: 'POST',
      requestHeader: header,
      responseHeader: responseHeader as unknown as Headers,
      responseTrailer: responseTrailer as unknown as Headers,
      protocolName: 'grpc',
      values,
      url: request.url,
    };
    values.set(HANDLER_CONTEXT, context);
    const answer = await chain({
      stream: false,
      service: route.method.parent,
      method: route.method,
      requestMethod: 'POST',
      url: request.url,
      get signal() {
        return signal();
      },
      header,
      contextValues: values,
      message,
    });
    if (closed) return;
    const bytes = toBinary(route.method.output, answer.message);
    const frame = Buffer.allocUnsafe(5 + bytes.length);
    frame[0] = 0;
    frame.writeUInt32BE(bytes.length, 1);
    frame.set(bytes, 5);
    response.writeHead(200, { ...responseHeader.record, 'content-type': 'application/grpc+proto' });
    response.addTrailers({ ...responseTrailer.record, 'grpc-status': '0' });
    response.end(frame);
  } catch (error) {
    if (closed || response.writableEnded || response.stream.destroyed) return;
    const connectError = ConnectError.from(error);
    response.writeHead(200, { ...responseHeader.record, 'content-type': 'application/grpc+proto' });
    response.addTrailers({ ...responseTrailer.record, ...errorTrailers(connectError) });
    response.end();
  } finally {
    response.off('close', onClose);
  }
}

/**
 * The part of the Fetch API's Headers that handlers and interceptors use, on a plain object:
 * Node's Headers (undici's) costs more per call than much of the rest of this path. Names are
 * lowercase, as HTTP/2 sends them.
 */
class LiteHeaders {
  readonly record: Record<string, string>;

  constructor(record: Record<string, string> = {}) {
    this.record = record;
  }

  /** Request headers, pseudo-headers left out, repeated ones joined as Headers joins them. */
  static of(headers: IncomingHttpHeaders): Headers {
    const record: Record<string, string> = {};
    for (const name in headers) {
      const value = headers[name];
      if (name.charCodeAt(0) === 58 /* ":" */ || value === undefined) continue;
      record[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    return new LiteHeaders(record) as unknown as Headers;
  }

  get(name: string): string | null {
    return this.record[name.toLowerCase()] ?? null;
  }
  has(name: string): boolean {
    return name.toLowerCase() in this.record;
  }
  set(name: string, value: string): void {
    this.record[name.toLowerCase()] = String(value);
  }
  append(name: string, value: string): void {
    const key = name.toLowerCase();
    const current = this.record[key];
    this.record[key] = current === undefined ? String(value) : `${current}, ${value}`;
  }
  delete(name: string): void {
    delete this.record[name.toLowerCase()];
  }
  forEach(callback: (value: string, name: string, parent: Headers) => void): void {
    for (const [name, value] of Object.entries(this.record)) callback(value, name, this as unknown as Headers);
  }
  entries(): IterableIterator<[string, string]> {
    return Object.entries(this.record)[Symbol.iterator]();
  }
  keys(): IterableIterator<string> {
    return Object.keys(this.record)[Symbol.iterator]();
  }
  values(): IterableIterator<string> {
    return Object.values(this.record)[Symbol.iterator]();
  }
  getSetCookie(): string[] {
    return [];
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

function readBody(request: Http2ServerRequest, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > 5 + maxBytes) {
        reject(new ConnectError(`message larger than ${maxBytes} bytes`, Code.ResourceExhausted));
        request.removeAllListeners('data');
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    request.once('error', reject);
  });
}

/** The one length-prefixed message of a unary call (gRPC over HTTP/2, "Length-Prefixed-Message"). */
function decode<Desc extends DescMessage>(schema: Desc, body: Buffer): MessageShape<Desc> {
  if (body.length < 5) throw new ConnectError('protocol error: missing request message', Code.Internal);
  if (body[0] !== 0) {
    throw new ConnectError('protocol error: compressed message without grpc-encoding', Code.Internal);
  }
  const length = body.readUInt32BE(1);
  if (body.length !== 5 + length) {
    throw new ConnectError('protocol error: a unary call takes exactly one request message', Code.Internal);
  }
  try {
    return fromBinary(schema, body.subarray(5));
  } catch (error) {
    throw new ConnectError(
      `could not decode ${schema.typeName}: ${error instanceof Error ? error.message : String(error)}`,
      Code.Internal,
    );
  }
}

/** grpc-status, grpc-message (percent-encoded as the spec asks) and grpc-status-details-bin. */
function errorTrailers(error: ConnectError): Record<string, string> {
  const trailers: Record<string, string> = {};
  error.metadata.forEach((value, key) => {
    trailers[key] = value;
  });
  trailers['grpc-status'] = String(error.code);
  trailers['grpc-message'] = percentEncode(error.rawMessage);
  if (error.details.length > 0) {
    const status = create(StatusSchema, {
      code: error.code,
      message: error.rawMessage,
      details: error.details.map((detail) =>
        'desc' in detail
          ? anyPack(detail.desc, create(detail.desc, detail.value))
          : { typeUrl: `type.googleapis.com/${detail.type}`, value: detail.value },
      ),
    });
    trailers['grpc-status-details-bin'] = base64Encode(toBinary(StatusSchema, status), 'std_raw');
  }
  return trailers;
}

/** The spec's grpc-message encoding: printable ASCII except `%` as is, every other byte %XX. */
export function percentEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
