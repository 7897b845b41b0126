-- wrk: POST one small JSON event per request to STREAMS streams (/v1/stream/<prefix>-<i>),
-- cycling through them; prints the RESULT line of bench/http/report.lua.
package.path = package.path .. ";" .. (os.getenv("LUA_DIR") or ".") .. "/?.lua"
local report = require("report")
local prefix = os.getenv("STREAM_PREFIX") or "/v1/stream/bench-append"
local streams = tonumber(os.getenv("STREAMS") or "1")
local body = '{"type":"order.created","id":1,"data":{"customer":"cust-42","sku":"A-1","qty":2,"total":45.48}}'
local headers = { ["Content-Type"] = "application/json" }
local n = 0

function request()
  n = n + 1
  return wrk.format("POST", prefix .. "-" .. (n % streams), headers, body)
end

done = report.done
