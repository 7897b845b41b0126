// Starts the Durable Streams reference server (file-backed store) on a loopback port for
// bench/ds/compare.sh and prints {"url":...} once it listens.
// Usage: node reference_server.mjs DATA_DIR [PORT]
// REF_NO_FSYNC=1 turns its per-append fdatasync of the stream file into a no-op (its LMDB
// metadata commit still syncs): a diagnosis of where its append time goes, not a setting.
import fs from "node:fs"
import { syncBuiltinESMExports } from "node:module"
import { DurableStreamTestServer } from "@durable-streams/server"

if (process.env.REF_NO_FSYNC === "1") {
  fs.fdatasync = (fd, cb) => process.nextTick(cb, null)
  fs.fsync = (fd, cb) => process.nextTick(cb, null)
  fs.fsyncSync = () => {}
  fs.fdatasyncSync = () => {}
  syncBuiltinESMExports()
}

const dataDir = process.argv[2]
if (!dataDir) throw new Error("usage: reference_server.mjs DATA_DIR [PORT]")
const server = new DurableStreamTestServer({
  host: "127.0.0.1",
  port: Number(process.argv[3] ?? 0),
  dataDir,
  // Both servers get the same requests without Accept-Encoding; this keeps it off anyway.
  compression: false,
})
await server.start()
console.log(JSON.stringify({ url: server.url }))
const stop = async () => {
  await server.stop()
  process.exit(0)
}
process.on("SIGTERM", stop)
process.on("SIGINT", stop)
