// One sender, one receiver, one message at a time: the relay's own fanout latency, without load.
import WebSocket from 'ws';
const url = process.argv[2], N = 2000;
const open = (ws) => new Promise(r => ws.on('open', r));
const next = (ws, pred) => new Promise(r => { const h = (d) => { const f = JSON.parse(d); if (pred(f)) { ws.off('message', h); r(f); } }; ws.on('message', h); });
const a = new WebSocket(url, { perMessageDeflate: false }), b = new WebSocket(url, { perMessageDeflate: false });
await Promise.all([open(a), open(b)]);
for (const ws of [a, b]) { ws.send('{"t":"hello"}'); await next(ws, f => f.t === 'welcome'); ws.send('{"t":"join","room":"fan","id":1}'); await next(ws, f => f.t === 'joined'); }
const lat = [], ack = [];
for (let i = 0; i < N; i++) {
  const got = next(b, f => f.t === 'msg'); const acked = next(a, f => f.t === 'ack');
  const t0 = process.hrtime.bigint();
  a.send(JSON.stringify({t: 'send', room: 'fan', cid: 'c' + i + '-' + Date.now(), body: '안녕하세요 hello there ' + i}));
  await got; lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
  await acked; ack.push(Number(process.hrtime.bigint() - t0) / 1e6);
  await new Promise(r => setTimeout(r, 5));
}
const q = (xs, p) => xs.sort((x, y) => x - y)[Math.floor(xs.length * p)].toFixed(3);
console.log(`send->msg ms p50 ${q(lat, .5)} p99 ${q(lat, .99)} | send->ack(stored) p50 ${q(ack, .5)} p99 ${q(ack, .99)}`);
process.exit(0);
