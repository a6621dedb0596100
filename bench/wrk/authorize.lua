-- Authorize calls as LicenseClient sends them: a new requestId on every call,
-- attempt 1, keep-alive. For checking `lts bench authorize` with a load
-- generator lts did not write:
--   wrk -t2 -c64 -d60s --latency -s bench/wrk/authorize.lua \
--       https://127.0.0.1:48191/dls/api/v1/authorize -- HANDSHAKE-CODE [product]
-- Prints how many answers were not 200 (refusals and errors) at the end.

local threads = {}

function setup(thread)
    thread:set("thread_number", #threads + 1)
    table.insert(threads, thread)
end

function init(args)
    code = args[1] or "demo-1"
    product = args[2] or "dbr"
    math.randomseed(os.time() * 100 + thread_number)
    client = string.format("wrk-%08x-%d", math.random(0, 0x7fffffff), thread_number)
    sequence = 0
    not_granted = 0
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
end

function request()
    sequence = sequence + 1
    local body = string.format(
        '{"handshakeCode":"%s","clientUUID":"%s","product":"%s","requestId":"%s-%d","attempt":1}',
        code, client, product, client, sequence)
    return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
    if status ~= 200 then not_granted = not_granted + 1 end
end

function done(summary, latency, requests)
    local total = 0
    for _, thread in ipairs(threads) do total = total + thread:get("not_granted") end
    io.write(string.format("not granted: %d\n", total))
end
