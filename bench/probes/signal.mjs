// Signal bursts between pairs of Node clients: the relay's signal path (or the PeerJS server's)
// without the Java load driver. Every interval each offerer sends an offer and trickles
// candidates; the answerer answers at once and trickles as many. Prints send→delivery.
//   node signal.mjs ws://127.0.0.1:18080/ws [pairs] [rounds] [candidates] [sdpBytes] [intervalMs]
//   node signal.mjs 'ws://127.0.0.1:9000/peerjs' ...   (a PeerJS server: the URL ends in /peerjs)
import WebSocket from 'ws';

const [url, pairs = 20, rounds = 30, candidates = 8, sdpBytes = 2500, intervalMs = 1000] =
  process.argv.slice(2).map((v, i) => (i === 0 ? v : Number(v)));
const peerjs = url.endsWith('/peerjs');
const warmup = Math.min(10, Math.floor(rounds / 3));
const sdp = 'v=0\r\n' + 'a=fingerprint:sha-256 5B:0C:7D:2E:AF:10:9C:3B\r\n'.repeat(Math.ceil(sdpBytes / 38)).slice(0, sdpBytes);
const lat = [];
let delivered = 0;

function connect(i) {
  const id = `p${process.pid}-${i}`;
  const ws = new WebSocket(peerjs ? `${url}?key=peerjs&id=${id}&token=t${i}` : url, { perMessageDeflate: false });
  const peer = { ws, id, room: `sig-${process.pid}-${i >> 1}` };
  peer.ready = new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.on('open', () => { if (!peerjs) ws.send('{"t":"hello"}'); });
    ws.on('message', (raw) => {
      const now = process.hrtime.bigint();
      const f = JSON.parse(raw);
      const type = peerjs ? f.type : f.t;
      if (type === 'welcome') { peer.id = f.session; ws.send(JSON.stringify({ t: 'join', id: 1, room: peer.room })); }
      else if (type === 'joined' || type === 'OPEN') resolve();
      else if (type === 'signal' || type === 'OFFER' || type === 'ANSWER' || type === 'CANDIDATE') {
        const data = peerjs ? f.payload : f.data;
        delivered++;
        if (data.round >= warmup) lat.push(Number(now - BigInt(data.at)) / 1e6);
        if (data.kind === 'offer') burst(peer, 'answer', data.round);
      } else if (type === 'error' || type === 'ERROR') console.error('error frame', raw.toString());
    });
  });
  return peer;
}

function signal(from, kind, round, text) {
  const data = { kind, round, at: String(process.hrtime.bigint()) };
  if (kind === 'candidate') data.candidate = { candidate: text, sdpMid: '0', sdpMLineIndex: 0 };
  else data.sdp = { type: kind, sdp: text };
  from.ws.send(JSON.stringify(peerjs ? { type: kind.toUpperCase(), payload: data, dst: from.other.id }
    : { t: 'signal', room: from.room, to: from.other.id, data }));
}

function burst(from, kind, round) {
  signal(from, kind, round, sdp);
  for (let c = 0; c < candidates; c++) {
    signal(from, 'candidate', round, `candidate:${842163049 + c} 1 udp 1677729535 127.0.0.1 ${50000 + c} typ srflx`);
  }
}

const peers = Array.from({ length: 2 * pairs }, (_, i) => connect(i));
for (let i = 0; i < peers.length; i += 2) { peers[i].other = peers[i + 1]; peers[i + 1].other = peers[i]; }
await Promise.all(peers.map((p) => p.ready));
const expected = pairs * rounds * 2 * (1 + candidates);
await Promise.all(peers.filter((_, i) => i % 2 === 0).map(async (p) => {
  await new Promise((r) => setTimeout(r, Math.random() * intervalMs));
  for (let round = 0; round < rounds; round++) {
    burst(p, 'offer', round);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}));
const deadline = Date.now() + 10_000;
while (delivered < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
const q = (p) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))].toFixed(3);
lat.sort((x, y) => x - y);
console.log(`${peerjs ? 'peerjs' : 'relay'}: ${pairs} pairs, delivered ${delivered}/${expected}, send->delivery ms `
  + `p50 ${q(0.5)} p95 ${q(0.95)} p99 ${q(0.99)} max ${lat[lat.length - 1].toFixed(3)} (n=${lat.length})`);
process.exit(0);
