'use strict';
// Calls farmd's farm.v1.Admin service with @grpc/grpc-js and prints one JSON line.
// Usage: node admin-client.js <target> <get|watch|plain-tcp|sealed-get|sealed-watch> [cluster key]
//   target: unix:/path/to/farmd.sock (plain calls) or host:port (h2c; sealed calls with the cluster key)
// The protos are read from the repository's proto/ directory, found from this script's own folder.
const crypto = require('crypto');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const [target, mode, clusterKey] = process.argv.slice(2);
const protoRoot = path.join(__dirname, '..', '..', '..', 'proto');
if (!target || !mode) {
  console.error('usage: node admin-client.js <target> <mode> [key]');
  process.exit(2);
}

const definition = protoLoader.loadSync('farm/v1/admin.proto', {
  includeDirs: [protoRoot], keepCase: false, longs: String, enums: String, bytes: Buffer, defaults: true, oneofs: true,
});
const farm = grpc.loadPackageDefinition(definition).farm.v1;
const client = new farm.Admin(target, grpc.credentials.createInsecure());

// protobufjs for the payload inside envelopes (proto-loader only serializes the top-level messages).
const root = new protobuf.Root();
root.resolvePath = (_origin, file) => path.join(protoRoot, file);
root.loadSync('farm/v1/admin.proto', { keepCase: false });
const StatusQuery = root.lookupType('farm.v1.StatusQuery');
const NodeStatusReport = root.lookupType('farm.v1.NodeStatusReport');

// The envelope MAC, written from the layout in proto/farm/v1/envelope.proto.
const macKey = clusterKey ? Buffer.from(crypto.hkdfSync('sha256', Buffer.from(clusterKey, 'utf8'), Buffer.alloc(0), Buffer.from('farm/v1 envelope mac', 'ascii'), 32)) : null;
function u32(v) { const b = Buffer.alloc(4); b.writeUInt32BE(v); return b; }
function u64(v) { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt.asUintN(64, BigInt(v))); return b; }
function lengthPrefixed(buf) { return Buffer.concat([u32(buf.length), buf]); }
function mac(method, kind, e) {
  const m = Buffer.concat([
    Buffer.from('farm/v1 envelope\0', 'ascii'),
    lengthPrefixed(Buffer.from(method, 'utf8')),
    Buffer.from([kind]),
    lengthPrefixed(Buffer.from(e.sender, 'utf8')),
    u64(e.incarnation), u64(e.seq), u64(e.unixTimeMs), u32(Number(e.lan)), u64(e.replyTo),
    lengthPrefixed(Buffer.from(e.payload)),
  ]);
  return crypto.createHmac('sha256', macKey).update(m).digest();
}
const incarnation = String(Date.now());
let seq = 0;
function seal(method) {
  const e = {
    sender: 'grpc-js-admin', incarnation, seq: String(++seq), unixTimeMs: String(Date.now()), lan: 0, replyTo: '0',
    payload: Buffer.from(StatusQuery.encode(StatusQuery.create({})).finish()),
  };
  e.mac = mac(method, 0, e);
  return e;
}
function open(method, kind, e, requestSeq) {
  const valid = crypto.timingSafeEqual(mac(method, kind, e), Buffer.from(e.mac));
  const status = NodeStatusReport.toObject(NodeStatusReport.decode(e.payload), { longs: String, enums: String, defaults: true });
  return { macValid: valid, replyToMatches: String(e.replyTo) === String(requestSeq), sender: e.sender, status };
}
function summary(status) {
  return {
    node: status.node, installedEpoch: String(status.installedEpoch), coordinator: status.coordinator,
    nodes: status.nodes.map(n => ({ name: n.name, state: n.state, inView: n.inView })),
  };
}
function done(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
  client.close();
}
function fail(err) { done({ code: err.code, details: err.details }); }
const deadline = () => new Date(Date.now() + 10000);

switch (mode) {
  case 'get':
  case 'plain-tcp':
    client.GetStatus({ query: {} }, { deadline: deadline() }, (err, reply) => err ? fail(err) : done({ code: 0, status: summary(reply.status) }));
    break;
  case 'watch': {
    const call = client.WatchStatus({ query: {} }, { deadline: deadline() });
    call.once('data', reply => { done({ code: 0, status: summary(reply.status) }); call.cancel(); });
    call.on('error', err => { if (err.code !== grpc.status.CANCELLED) { fail(err); } });
    break;
  }
  case 'sealed-get': {
    const method = '/farm.v1.Admin/GetStatus';
    const request = seal(method);
    client.GetStatus({ sealed: request }, { deadline: deadline() }, (err, reply) => {
      if (err) { return fail(err); }
      const opened = open(method, 1, reply.sealed, request.seq);
      done({ code: 0, plainStatus: reply.status !== null, macValid: opened.macValid, replyToMatches: opened.replyToMatches, sender: opened.sender, status: summary(opened.status) });
    });
    break;
  }
  case 'sealed-watch': {
    const method = '/farm.v1.Admin/WatchStatus';
    const request = seal(method);
    const call = client.WatchStatus({ sealed: request }, { deadline: deadline() });
    call.once('data', reply => {
      const opened = open(method, 2, reply.sealed, request.seq);
      done({ code: 0, macValid: opened.macValid, replyToMatches: opened.replyToMatches, sender: opened.sender, status: summary(opened.status) });
      call.cancel();
    });
    call.on('error', err => { if (err.code !== grpc.status.CANCELLED) { fail(err); } });
    break;
  }
  default:
    console.error(`unknown mode ${mode}`);
    process.exit(2);
}
