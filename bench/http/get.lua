-- GET of the path given on the wrk command line, with the key.
package.path = package.path .. ";" .. (os.getenv("LUA_DIR") or ".") .. "/?.lua"
local report = require("report")
wrk.headers["X-API-Key"] = os.getenv("BENCH_KEY")
done = report.done
