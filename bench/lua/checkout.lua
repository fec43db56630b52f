-- Checkout through the JSON API: each request orders one prepared cart
-- (`<prefix><n>`, filled by the bench before the run) with the cart id as
-- idempotency key, so no order is a replay. Arguments: prefix, wrk threads.
local threads = 0

setup = function(thread)
  thread:set("offset", threads)
  threads = threads + 1
end

init = function(args)
  prefix = args[1]
  step = tonumber(args[2])
  sent = 0
end

request = function()
  local cart = prefix .. (offset + sent * step)
  sent = sent + 1
  local body = '{"cart_id":"' .. cart .. '","name":"Bench Shopper",' ..
    '"email":"bench@example.com","address":"1 Benchmark Road, Testville"}'
  return wrk.format("POST", "/api/v1/orders",
    { ["Content-Type"] = "application/json", ["Idempotency-Key"] = "bench-" .. cart }, body)
end
