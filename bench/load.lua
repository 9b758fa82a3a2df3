-- wrk script of `python -m bench load`: 50 signed-in managers (one per connection's turn)
-- reading the inbox, POs and the dashboard and answering POs (GET the PO, POST accept-all with
-- the CSRF token that belongs to the user's session cookie and the risks confirmed, as the
-- confirmation page posts it: every acknowledgement is written). Data comes from the bench.
local data = dofile(os.getenv("ACORN_LOAD_LUA_DATA"))
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

-- Task weights as in the locust variant: inbox 4, PO 4, dashboard 2, acknowledgement 1.
local mix = {"inbox", "inbox", "inbox", "inbox", "po", "po", "po", "po", "dash", "dash", "ack"}
local queue = {}
local turn = 0
local next_fresh = 0

function init(args)
  math.randomseed(1000 + tid)
  next_fresh = tid + 1
end

-- Phones accept brotli and gzip: the server compresses pages as it would for them.
local ENCODING = "br, gzip, deflate"

local function get(path, user)
  return wrk.format("GET", path, {["Cookie"] = user.cookie, ["Accept-Encoding"] = ENCODING})
end

function request()
  if #queue > 0 then
    return table.remove(queue, 1)
  end
  turn = turn + 1
  local user = data.users[(turn * data.threads + tid) % #data.users + 1]
  local task = mix[math.random(#mix)]
  if task == "ack" then
    local number = data.fresh[next_fresh]
    next_fresh = next_fresh + data.threads
    if number then
      table.insert(queue, wrk.format("POST", "/orders/" .. number .. "/accept-all",
        {["Cookie"] = user.cookie, ["Accept-Encoding"] = ENCODING,
         ["Content-Type"] = "application/x-www-form-urlencoded"},
        "csrf_token=" .. user.token .. "&confirmed=1"))
      return get("/orders/" .. number, user)
    end
    task = "po"  -- no unanswered PO left: read one instead
  end
  if task == "inbox" then
    return get("/orders", user)
  elseif task == "dash" then
    return get("/dashboards", user)
  end
  return get("/orders/" .. data.pos[math.random(#data.pos)], user)
end

function delay()
  -- Think time between a connection's requests (0: closed loop at saturation).
  return data.think_ms
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, '
    .. '"status": %d, "timeout": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, '
    .. '"max_us": %d}\n',
    summary.requests, summary.duration, errors.connect, errors.read, errors.write,
    errors.status, errors.timeout, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max))
end
