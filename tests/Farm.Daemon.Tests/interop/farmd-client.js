'use strict';
// Calls a real farmd with @grpc/grpc-js, an implementation independent of ours, and prints one JSON line.
// Usage: node farmd-client.js <target> <mode> [cluster key]
//   target: unix:/path/to/farmd.sock (plain admin calls) or host:port (h2c; sealed calls with the cluster key)
//   mode:   get | watch | plain-tcp (plain admin), sealed-get | sealed-watch (sealed admin), heartbeat (sealed
//           Membership/Heartbeat as node n4), reflect (list services through server reflection)
// The protos are read from the repository's proto/ directory, found from this script's own folder; the envelope MAC
// is written here from the specification in proto/farm/v1/envelope.proto, not from our C# code.
const crypto = require('crypto');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const [target, mode, clusterKey] = process.argv.slice(2);
const protoRoot = path.join(__dirname, '..', '..', '..', 'proto');
if (!target || !mode) {
  console.error('usage: node farmd-client.js <target> <mode> [key]');
  process.exit(2);
}

const loaderOptions = { includeDirs: [protoRoot], keepCase: false, longs: String, enums: String, bytes: Buffer, defaults: true, oneofs: true };
const farm = grpc.loadPackageDefinition(protoLoader.loadSync(['farm/v1/admin.proto', 'farm/v1/membership.proto'], loaderOptions)).farm.v1;
const credentials = grpc.credentials.createInsecure();

// protobufjs for the payloads inside envelopes (proto-loader only serializes the top-level messages).
const root = new protobuf.Root();
root.resolvePath = (_origin, file) => path.join(protoRoot, file);
root.loadSync(['farm/v1/admin.proto', 'farm/v1/membership.proto'], { keepCase: false });
const type = name => root.lookupType('farm.v1.' + name);
const REFUSAL_NONE = 'REFUSAL_NONE', REFUSAL_RESEAL = 'REFUSAL_RESEAL';
const refusalNumber = name => typeof name === 'number' ? name : root.lookupEnum('farm.v1.Refusal').values[name];
const PROTOCOL = 2;

// The envelope MAC (protocol 2), from the layout in proto/farm/v1/envelope.proto.
const macKey = clusterKey ? Buffer.from(crypto.hkdfSync('sha256', Buffer.from(clusterKey, 'utf8'), Buffer.alloc(0), Buffer.from('farm/v1 envelope mac', 'ascii'), 32)) : null;
function u32(v) { const b = Buffer.alloc(4); b.writeUInt32BE(Number(v)); return b; }
function u64(v) { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt.asUintN(64, BigInt(v))); return b; }
function lengthPrefixed(buf) { return Buffer.concat([u32(buf.length), buf]); }
function mac(method, kind, e) {
  const m = Buffer.concat([
    Buffer.from('farm/v2 envelope\0', 'ascii'),
    lengthPrefixed(Buffer.from(method, 'utf8')),
    Buffer.from([kind]),
    lengthPrefixed(Buffer.from(e.sender, 'utf8')),
    u64(e.incarnation), u64(e.seq), u64(e.unixTimeMs), u32(e.lan), u64(e.replyTo),
    lengthPrefixed(Buffer.from(e.recipient, 'utf8')), u64(e.recipientIncarnation),
    u32(e.protocol), u32(e.maxProtocol), u32(refusalNumber(e.refusal)),
    lengthPrefixed(Buffer.from(e.payload)),
  ]);
  return crypto.createHmac('sha256', macKey).update(m).digest();
}

const incarnation = String(Date.now());
let seq = 0;
let recipient = '', recipientIncarnation = '0';
function seal(method, sender, payload) {
  const e = {
    sender, incarnation, seq: String(++seq), unixTimeMs: String(Date.now()), lan: 0, replyTo: '0',
    recipient, recipientIncarnation, protocol: PROTOCOL, maxProtocol: PROTOCOL, refusal: REFUSAL_NONE, payload,
  };
  e.mac = mac(method, 0, e);
  return e;
}
function check(method, kind, e, request) {
  return {
    macValid: crypto.timingSafeEqual(mac(method, kind, e), Buffer.from(e.mac)),
    replyToMatches: String(e.replyTo) === String(request.seq),
    forUs: e.recipient === request.sender && String(e.recipientIncarnation) === incarnation,
  };
}
function summary(status) {
  return {
    node: status.node, installedEpoch: String(status.installedEpoch), coordinator: status.coordinator,
    nodes: status.nodes.map(n => ({ name: n.name, state: n.state, inView: n.inView })),
  };
}
function decodeStatus(bytes) { return type('NodeStatusReport').toObject(type('NodeStatusReport').decode(bytes), { longs: String, enums: String, defaults: true }); }

let client = null;
function done(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
  if (client) { client.close(); }
}
function fail(err) { done({ code: err.code, details: err.details }); }
const deadline = () => new Date(Date.now() + 10000);

// A sealed unary call: the first request names no run; farmd answers with a sealed RESEAL refusal naming its run,
// which is checked, learnt, and the request sealed again for it.
function sealedUnary(call, method, sender, payload, wrap, unwrap, then) {
  const first = seal(method, sender, payload);
  call(wrap(first), { deadline: deadline() }, (err, reply) => {
    if (err) { return fail(err); }
    const refusal = unwrap(reply);
    const checked = check(method, 1, refusal, first);
    if (refusal.refusal !== REFUSAL_RESEAL || !checked.macValid || !checked.replyToMatches || !checked.forUs) {
      return done({ code: -1, details: 'expected a sealed RESEAL refusal first', refusal: refusal.refusal, ...checked });
    }
    recipient = refusal.sender;
    recipientIncarnation = String(refusal.incarnation);
    const request = seal(method, sender, payload);
    call(wrap(request), { deadline: deadline() }, (err2, reply2) => err2 ? fail(err2) : then(request, unwrap(reply2), reply2));
  });
}

switch (mode) {
  case 'get':
  case 'plain-tcp':
    client = new farm.Admin(target, credentials);
    client.GetStatus({ query: {} }, { deadline: deadline() }, (err, reply) => err ? fail(err) : done({ code: 0, status: summary(reply.status) }));
    break;
  case 'watch': {
    client = new farm.Admin(target, credentials);
    const call = client.WatchStatus({ query: {} }, { deadline: deadline() });
    call.once('data', reply => { done({ code: 0, status: summary(reply.status) }); call.cancel(); });
    call.on('error', err => { if (err.code !== grpc.status.CANCELLED) { fail(err); } });
    break;
  }
  case 'sealed-get': {
    client = new farm.Admin(target, credentials);
    const method = '/farm.v1.Admin/GetStatus';
    const payload = Buffer.from(type('StatusQuery').encode({}).finish());
    sealedUnary(client.GetStatus.bind(client), method, 'grpc-js-admin', payload, e => ({ sealed: e }), r => r.sealed, (request, sealed, reply) => {
      const checked = check(method, 1, sealed, request);
      done({ code: 0, plainStatus: reply.status !== null, ...checked, sender: sealed.sender, status: summary(decodeStatus(sealed.payload)) });
    });
    break;
  }
  case 'sealed-watch': {
    client = new farm.Admin(target, credentials);
    const method = '/farm.v1.Admin/WatchStatus';
    const payload = Buffer.from(type('StatusQuery').encode({}).finish());
    // The run is learnt with a status query first (a stream cannot be sealed again once open).
    sealedUnary(client.GetStatus.bind(client), '/farm.v1.Admin/GetStatus', 'grpc-js-admin', payload, e => ({ sealed: e }), r => r.sealed, () => {
      const request = seal(method, 'grpc-js-admin', payload);
      const call = client.WatchStatus({ sealed: request }, { deadline: deadline() });
      call.once('data', reply => {
        const checked = check(method, 2, reply.sealed, request);
        done({ code: 0, ...checked, sender: reply.sealed.sender, status: summary(decodeStatus(reply.sealed.payload)) });
        call.cancel();
      });
      call.on('error', err => { if (err.code !== grpc.status.CANCELLED) { fail(err); } });
    });
    break;
  }
  case 'heartbeat': {
    client = new farm.Membership(target, credentials);
    const method = '/farm.v1.Membership/Heartbeat';
    const HeartbeatRequest = type('HeartbeatRequest');
    const payload = Buffer.from(HeartbeatRequest.encode({ sender: { name: 'n4', incarnation, weight: 100 }, configHash: 'grpc-js-probe' }).finish());
    sealedUnary(client.Heartbeat.bind(client), method, 'n4', payload, e => e, r => r, (request, sealed) => {
      const checked = check(method, 1, sealed, request);
      const reply = type('HeartbeatReply').toObject(type('HeartbeatReply').decode(sealed.payload), { longs: String, enums: String, defaults: true });
      done({ code: 0, ...checked, sender: sealed.sender, refusal: sealed.refusal, replySender: reply.sender.name, replyConfigHash: reply.configHash });
    });
    break;
  }
  case 'reflect': {
    const reflectionProto = path.join(path.dirname(require.resolve('@grpc/reflection/package.json')), 'build', 'proto', 'grpc', 'reflection', 'v1alpha', 'reflection.proto');
    const reflection = grpc.loadPackageDefinition(protoLoader.loadSync(reflectionProto, loaderOptions)).grpc.reflection.v1alpha;
    client = new reflection.ServerReflection(target, credentials);
    const call = client.ServerReflectionInfo({ deadline: deadline() });
    call.on('data', reply => {
      done({ code: 0, services: (reply.listServicesResponse ? reply.listServicesResponse.service : []).map(s => s.name).sort() });
      call.end();
    });
    call.on('error', err => { if (err.code !== grpc.status.CANCELLED) { fail(err); } });
    call.write({ host: '', listServices: '*' });
    break;
  }
  default:
    console.error(`unknown mode ${mode}`);
    process.exit(2);
}
