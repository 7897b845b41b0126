-- POST /events/batch with 100 ~200-byte events.
package.path = package.path .. ";" .. (os.getenv("LUA_DIR") or ".") .. "/?.lua"
local report = require("report")
wrk.method = "POST"
wrk.headers["X-API-Key"] = os.getenv("BENCH_KEY")
wrk.headers["Content-Type"] = "application/json"
local event = '{"type":"order.created","data":{"order_id":"ord-000123","customer":"cust-42",'
  .. '"items":[{"sku":"A-1","qty":2,"price":19.99},{"sku":"B-7","qty":1,"price":5.5}],'
  .. '"total":45.48}}'
local events = {}
for i = 1, 100 do events[i] = event end
wrk.body = "[" .. table.concat(events, ",") .. "]"
done = report.done
