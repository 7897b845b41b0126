// Durable Streams bench client for bench/ds/compare.sh: seeds a stream, times catch-up reads
// and long-poll wake-ups. Plain node:http with keep-alive (no compression asked for), so that
// both servers see the same requests. Prints one "RESULT key=value ..." line per command.
// Usage: node client.mjs seed URL COUNT CONNS BATCH | catchup URL ROUNDS | longpoll URL ROUNDS
//   URL is a stream's full URL, e.g. http://127.0.0.1:18960/v1/stream/bench
import http from "node:http"

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
const waitAgent = new http.Agent({ keepAlive: true, maxSockets: 1 })

/** One request; resolves with status, headers and the body as a Buffer. */
function request(url, { method = "GET", headers = {}, body, via = agent } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: via }, (res) => {
      const chunks = []
      res.on("data", (c) => chunks.push(c))
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on("error", reject)
    })
    req.setTimeout(60000, () => req.destroy(new Error(`timeout: ${method} ${url}`)))
    req.on("error", reject)
    req.end(body)
  })
}

const json = { "Content-Type": "application/json" }
/** A small event (~110 bytes of JSON), one message per append as ebu writes them. */
const event = (i) => JSON.stringify({ type: "order.created", id: i, data: { customer: "cust-42", sku: "A-1", qty: 2, total: 45.48 } })

async function create(url) {
  const res = await request(url, { method: "PUT", headers: json })
  if (res.status !== 201 && res.status !== 200) throw new Error(`PUT ${url}: ${res.status} ${res.body}`)
}

async function append(url, body) {
  const res = await request(url, { method: "POST", headers: json, body })
  if (res.status !== 204 && res.status !== 200) throw new Error(`POST ${url}: ${res.status} ${res.body}`)
  return res.headers["stream-next-offset"]
}

/** COUNT messages in appends of BATCH (one JSON array each; 1: a bare object). */
async function seed(url, count, conns, batch) {
  await create(url)
  const appends = Math.ceil(count / batch)
  const body = (k) => batch === 1 ? event(k)
    : `[${Array.from({ length: Math.min(batch, count - k * batch) }, (_, j) => event(k * batch + j)).join(",")}]`
  let next = 0
  const t0 = process.hrtime.bigint()
  const worker = async () => {
    while (next < appends) await append(url, body(next++))
  }
  await Promise.all(Array.from({ length: conns }, worker))
  const s = Number(process.hrtime.bigint() - t0) / 1e9
  console.log(`RESULT appends=${appends} messages=${count} seconds=${s.toFixed(3)} rate=${(appends / s).toFixed(0)}`)
}

/** Reads the whole stream from -1 following Stream-Next-Offset until Stream-Up-To-Date. */
async function catchUpOnce(url) {
  let offset = "-1"
  const bodies = []
  const t0 = process.hrtime.bigint()
  for (;;) {
    const res = await request(`${url}?offset=${encodeURIComponent(offset)}`)
    if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${res.body}`)
    bodies.push(res.body)
    offset = res.headers["stream-next-offset"]
    if (res.headers["stream-up-to-date"] === "true") break
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9
  // Counted after the clock stops, so that parsing is not charged to the server.
  const messages = bodies.reduce((n, b) => n + JSON.parse(b).length, 0)
  const bytes = bodies.reduce((n, b) => n + b.length, 0)
  return { s, messages, bytes, requests: bodies.length }
}

async function catchup(url, rounds) {
  const runs = []
  for (let i = 0; i < rounds; i++) runs.push(await catchUpOnce(url))
  runs.sort((a, b) => a.s - b.s)
  const med = runs[Math.floor(runs.length / 2)]
  console.log(`RESULT messages=${med.messages} bytes=${med.bytes} requests=${med.requests} ` +
    `median_s=${med.s.toFixed(4)} best_s=${runs[0].s.toFixed(4)} ` +
    `msgs_per_s=${(med.messages / med.s).toFixed(0)} mb_per_s=${(med.bytes / med.s / 1e6).toFixed(1)}`)
}

const pause = (ms) => new Promise((r) => setTimeout(r, ms))

/**
 * Each round parks a long-poll at the tail on its own connection, gives the server a moment
 * to park it, then appends on another connection and times from the append's send to the
 * long-poll's complete response. A response that was not a 200 with the data is an error.
 */
async function longpoll(url, rounds) {
  await create(url)
  let tail = await append(url, event(-1))
  const lat = []
  const ack = [] // the append's own round trip in the same rounds, for comparison
  let errors = 0
  for (let i = 0; i < rounds; i++) {
    const poll = request(`${url}?offset=${encodeURIComponent(tail)}&live=long-poll`, { via: waitAgent })
    // A benchmark pause, not a synchronisation: if the poll is not parked yet, the append's
    // data is found at once and the figure is still append-to-response.
    await pause(20)
    const t0 = process.hrtime.bigint()
    const [res, acked] = await Promise.all([
      poll.then((r) => ({ ...r, t: process.hrtime.bigint() })),
      append(url, event(i)).then(() => process.hrtime.bigint()),
    ])
    if (res.status !== 200 || JSON.parse(res.body).length !== 1) errors++
    lat.push(Number(res.t - t0) / 1e6)
    ack.push(Number(acked - t0) / 1e6)
    tail = res.headers["stream-next-offset"]
  }
  lat.sort((a, b) => a - b)
  ack.sort((a, b) => a - b)
  const q = (v, p) => v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))]
  console.log(`RESULT rounds=${rounds} p50_ms=${q(lat, 50).toFixed(3)} p99_ms=${q(lat, 99).toFixed(3)} ` +
    `max_ms=${lat[lat.length - 1].toFixed(3)} ack_p50_ms=${q(ack, 50).toFixed(3)} errors=${errors}`)
}

const [cmd, url, a, b] = process.argv.slice(2)
if (cmd === "seed") await seed(url, Number(a), Number(b ?? 16), Number(process.argv[6] ?? 1))
else if (cmd === "catchup") await catchup(url, Number(a ?? 3))
else if (cmd === "longpoll") await longpoll(url, Number(a ?? 200))
else throw new Error("usage: client.mjs seed URL COUNT CONNS BATCH | catchup URL ROUNDS | longpoll URL ROUNDS")
agent.destroy()
waitAgent.destroy()
