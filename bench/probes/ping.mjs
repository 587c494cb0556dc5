// hello, then 2000 pings 5 ms apart: a round trip through any server that answers ping with pong.
import WebSocket from 'ws';
const url = process.argv[2];
const ws = new WebSocket(url);
const lat = [];
ws.on('open', () => ws.send(JSON.stringify({t: 'hello'})));
let n = 0, t0 = 0;
ws.on('message', (data) => {
  const f = JSON.parse(data);
  if (f.t === 'welcome' || f.t === 'pong') {
    if (f.t === 'pong') lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (n++ >= 2000) {
      lat.sort((a, b) => a - b);
      console.log(`node ping->pong ms p50 ${lat[1000].toFixed(3)} p99 ${lat[1980].toFixed(3)} max ${lat[1999].toFixed(3)}`);
      process.exit(0);
    }
    setTimeout(() => { t0 = process.hrtime.bigint(); ws.send('{"t":"ping"}'); }, 5);
  }
});
