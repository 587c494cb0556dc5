// The no-JVM floor: a Node ws server answering hello and ping on 18091.
import { WebSocketServer } from 'ws';
const wss = new WebSocketServer({ host: '127.0.0.1', port: 18090 });
wss.on('connection', (ws) => ws.on('message', (d) => {
  const f = JSON.parse(d);
  ws.send(JSON.stringify(f.t === 'hello' ? {t: 'welcome'} : {t: 'pong', ts: Date.now()}));
}));
