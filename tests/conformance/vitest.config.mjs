// Vitest settings for the conformance run: only ds.test.mjs, generous hook timeouts.
export default {
  test: {
    include: ["ds.test.mjs"],
    testTimeout: 30000,
    hookTimeout: 30000,
  },
}
