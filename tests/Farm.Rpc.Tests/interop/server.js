'use strict';
// Serves farm.interop.v1.Echo with @grpc/grpc-js on 127.0.0.1 (free port) for Farm.Rpc's client.
// Prints JSON lines: first { port }, then { event: "cancelled", method } whenever a call is cancelled
// (e.g. its grpc-timeout expired). Exits when stdin closes.
const { grpc, proto } = require('./common');

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function delay(call, ms) {
  return new Promise(resolve => {
    if (!ms) { resolve(true); return; }
    const timer = setTimeout(() => resolve(true), ms);
    call.on('cancelled', () => { clearTimeout(timer); resolve(false); });
  });
}

async function unary(call, callback) {
  const request = call.request;
  call.on('cancelled', () => emit({ event: 'cancelled', method: 'Unary' }));
  if (!(await delay(call, request.delayMs))) {
    return;
  }
  if (request.failWithCode) {
    callback({ code: request.failWithCode, details: request.failMessage });
    return;
  }
  const key = request.echoMetadataKey;
  const values = key ? call.metadata.get(key) : [];
  callback(null, {
    text: request.text,
    index: 0,
    payload: Buffer.alloc(request.replyPayloadSize || 0),
    metadataValue: values.length ? String(values[0]) : '',
  });
}

async function stream(call) {
  const request = call.request;
  call.on('cancelled', () => emit({ event: 'cancelled', method: 'Stream' }));
  for (let i = 0; i < request.count; i++) {
    if (i > 0 && !(await delay(call, request.delayMs))) {
      return;
    }
    call.write({ text: `${request.text}:${i}`, index: i });
  }
  if (request.failWithCode) {
    call.emit('error', { code: request.failWithCode, details: request.failMessage });
    return;
  }
  call.end();
}

const server = new grpc.Server();
server.addService(proto.Echo.service, { Unary: unary, Stream: stream });
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    console.error(err);
    process.exit(1);
  }
  emit({ port });
});

process.stdin.resume();
process.stdin.on('end', () => server.forceShutdown());
process.stdin.on('close', () => { server.forceShutdown(); process.exit(0); });
