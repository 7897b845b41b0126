// Module hook for reference_server.mjs with REF_NO_FSYNC=1: opens the reference store's LMDB
// metadata database with noSync, so that neither of its per-append syncs remains.
export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context)
  if (!url.includes("@durable-streams/server/dist/index.js")) return result
  const source = String(result.source)
  if (!source.includes("noMemInit: true,")) throw new Error("unexpected reference server source")
  return { ...result, source: source.replace("noMemInit: true,", "noMemInit: true, noSync: true,") }
}
