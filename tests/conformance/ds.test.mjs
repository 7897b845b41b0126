// The official Durable Streams conformance suite against the server at DS_URL. Its own
// CLI finds no test file, so this file calls the exported entry point.
import { runConformanceTests } from "@durable-streams/server-conformance-tests"

const baseUrl = process.env.DS_URL
if (!baseUrl) throw new Error("DS_URL is not set (use run.sh URL)")

runConformanceTests({
  baseUrl,
  // The server's DS_LONGPOLL_TIMEOUT: the suite allows each long-poll test this plus 1 s.
  longPollTimeoutMs: Number(process.env.DS_LONGPOLL_TIMEOUT_MS ?? 2000),
  // The suite's 6 tests of the reserved subscription APIs (protocol §6-7: webhook and
  // pull-wake subscriptions under __ds/) run only when asked; ebuse does not serve them, so
  // they stay off unless DS_SUBSCRIPTIONS=1 (which shows them failing).
  subscriptions: process.env.DS_SUBSCRIPTIONS === "1",
})
