'use strict';
// Calls a Farm.Rpc server with @grpc/grpc-js and prints one JSON line: { code, details, replies, elapsedMs }.
// Usage: node client.js <target> <case> [ca.pem]
//   target: host:port (h2c, or TLS when ca.pem is given) or unix:/path/to.sock
const fs = require('fs');
const { grpc, proto } = require('./common');

const [address, scenario, caFile] = process.argv.slice(2);
if (!address || !scenario) {
  console.error('usage: node client.js <host:port|unix:path> <unary|stream|stream-error|deadline|error|unknown> [ca.pem]');
  process.exit(2);
}

const credentials = caFile ? grpc.credentials.createSsl(fs.readFileSync(caFile)) : grpc.credentials.createInsecure();
const client = new proto.Echo(address, credentials);
const started = Date.now();

function finish(err, replies) {
  const result = {
    code: err ? err.code : 0,
    details: err ? err.details : '',
    replies: (replies || []).map(r => ({ text: r.text, index: r.index, metadataValue: r.metadataValue })),
    elapsedMs: Date.now() - started,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
  client.close();
}

function deadlineIn(ms) {
  return new Date(Date.now() + ms);
}

function unary(request, options) {
  const metadata = new grpc.Metadata();
  metadata.set('x-farm-test', 'node-metadata');
  client.Unary(request, metadata, options || {}, (err, reply) => finish(err, reply ? [reply] : []));
}

function stream(request) {
  const replies = [];
  const call = client.Stream(request, { deadline: deadlineIn(10000) });
  call.on('data', r => replies.push(r));
  call.on('error', err => finish(err, replies));
  call.on('end', () => {});
  call.on('status', s => { if (s.code === grpc.status.OK) { finish(null, replies); } });
}

switch (scenario) {
  case 'unary':
    unary({ text: 'héllo from node ✓', echoMetadataKey: 'x-farm-test' }, { deadline: deadlineIn(10000) });
    break;
  case 'deadline':
    unary({ text: 'slow', delayMs: 30000 }, { deadline: deadlineIn(1000) });
    break;
  case 'error':
    unary({ text: 'fail', failWithCode: 7, failMessage: 'denied: ünïcödé 100% ✓ line\nbreak' }, { deadline: deadlineIn(10000) });
    break;
  case 'stream':
    stream({ text: 'n', count: 5 });
    break;
  case 'stream-error':
    stream({ text: 'n', count: 2, failWithCode: 9, failMessage: 'precondition 50% failed' });
    break;
  case 'unknown': {
    const generic = new grpc.Client(address, credentials);
    generic.makeUnaryRequest('/farm.interop.v1.Echo/NoSuchMethod', x => x, x => x, Buffer.alloc(0),
      new grpc.Metadata(), { deadline: deadlineIn(10000) },
      (err, reply) => { generic.close(); finish(err, []); });
    break;
  }
  default:
    console.error(`unknown case ${scenario}`);
    process.exit(2);
}
