-- POST /events (one ~200-byte event) or /events/batch (100) for bench/http/safe.sh:
-- SAFE_MODE=plain, expected (expected_position, following the head each answer
-- reports: a 409 tells it, a 200 moves it) or key (a unique Idempotency-Key per request).
-- Every mode runs the same Lua hooks, so wrk's own cost is about the same in each.
package.path = package.path .. ";" .. (os.getenv("LUA_DIR") or ".") .. "/?.lua"
local report = require("report")
local mode = os.getenv("SAFE_MODE") or "plain"
local batch = os.getenv("SAFE_BATCH") == "1"
local event = '{"type":"order.created","data":{"order_id":"ord-000123","customer":"cust-42",'
  .. '"items":[{"sku":"A-1","qty":2,"price":19.99},{"sku":"B-7","qty":1,"price":5.5}],'
  .. '"total":45.48}}'
local body = event
local path = "/events"
if batch then
  local events = {}
  for i = 1, 100 do events[i] = event end
  body = "[" .. table.concat(events, ",") .. "]"
  path = "/events/batch"
end
local headers = {
  ["X-API-Key"] = os.getenv("BENCH_KEY"),
  ["Content-Type"] = "application/json",
}

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local head = tonumber(os.getenv("SAFE_HEAD") or "0")
local n = 0

-- Every mode sends a unique header of the same size, so that the client does the same
-- work in each: the key in key mode, a header the server ignores otherwise.
local unique = mode == "key" and "Idempotency-Key" or "X-Request-Id-Ignored"

function request()
  n = n + 1
  local p = path
  if mode == "expected" then
    p = path .. "?expected_position=" .. head
  end
  headers[unique] = "k-" .. tid .. "-" .. n .. "-" .. os.time()
  return wrk.format("POST", p, headers, body)
end

function response(status, hdrs, text)
  if mode ~= "expected" then return end
  local h = text:match('"head":(%d+)') or text:match('"last_position":(%d+)')
    or text:match('"position":(%d+)')
  if h then head = tonumber(h) end
end

done = report.done
