// Starts the Durable Streams reference server (file-backed store) on a loopback port for
// bench/ds/compare.sh and prints {"url":...} once it listens.
// Usage: node reference_server.mjs DATA_DIR [PORT]
// REF_NO_FSYNC=1 removes both of its per-append syncs (the stream file's fdatasync becomes a
// no-op, its LMDB metadata is opened with noSync): a diagnosis of where its append time goes,
// comparable with ebuse's commits in WAL mode with synchronous=NORMAL. Not a setting of it.
import fs from "node:fs"
import { register, syncBuiltinESMExports } from "node:module"

if (process.env.REF_NO_FSYNC === "1") {
  fs.fdatasync = (fd, cb) => process.nextTick(cb, null)
  fs.fsync = (fd, cb) => process.nextTick(cb, null)
  fs.fsyncSync = () => {}
  fs.fdatasyncSync = () => {}
  syncBuiltinESMExports()
  register("./nosync_hooks.mjs", import.meta.url)
}
const { DurableStreamTestServer } = await import("@durable-streams/server")

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
