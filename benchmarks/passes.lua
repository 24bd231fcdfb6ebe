-- wrk script of make bench-verify: every request POSTs a pass token of its own, once.
--
-- After "--": the tokens file (one token a line), wrk's thread count, the expected status, the scenario,
-- and a prefix for Idempotency-Key ("-" for none). BENCH_AUTHORIZATION, when set, is sent as the
-- Authorization header (kept off the command line, which anyone on the machine can read).
-- Each thread takes every n-th line and builds its requests in init(), before the clock starts. A thread
-- that runs out of tokens stops and says so: such a round is failed, not fast. done() prints one line,
-- BENCH-RESULT, with exact percentiles and the count of responses that were not the expected status.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  local path, nthreads, scenario, idempotency = args[1], tonumber(args[2]), args[4], args[5]
  expected = tonumber(args[3])
  local headers = { ["Content-Type"] = "application/json" }
  local authorization = os.getenv("BENCH_AUTHORIZATION")
  if authorization and authorization ~= "" then
    headers["Authorization"] = authorization
  end
  prepared = {}
  local line = 0
  for token in io.lines(path) do
    if line % nthreads == id - 1 then
      local n = #prepared + 1
      if idempotency ~= "-" then
        headers["Idempotency-Key"] = idempotency .. "-" .. id .. "-" .. n
      end
      local body = '{"token":"' .. token .. '","scenario":"' .. scenario .. '"}'
      prepared[n] = wrk.format("POST", nil, headers, body)
    end
    line = line + 1
  end
  sent, unexpected, exhausted, first_unexpected = 0, 0, 0, ""
  issued, answered = 0, 0  -- every request sent (tokens and /healthz) and every response read
  -- wrk 4 calls request() once on its first thread before the run, only to check that the request
  -- parses: that call gets a GET /healthz, so that no token is spent on it.
  checking = id == 1
end

function request()
  if checking then
    checking = false
    return wrk.format("GET", "/healthz")
  end
  issued = issued + 1
  if sent >= #prepared then
    exhausted = exhausted + 1
    -- Stop once every answer is in: a token's answer still on its way on the thread's other
    -- connection would otherwise never be counted (a 409 among them went unseen)
    if answered >= issued - 1 then
      wrk.thread:stop()
    end
    return wrk.format("GET", "/healthz")
  end
  sent = sent + 1
  return prepared[sent]
end

function response(status, headers, body)
  answered = answered + 1
  -- (a thread that ran out sends GET /healthz while it stops: its 200 is not counted)
  if status ~= expected and not (exhausted > 0 and status == 200) then
    unexpected = unexpected + 1
    if first_unexpected == "" then
      first_unexpected = status .. " " .. string.gsub(string.sub(body or "", 1, 300), "%s+", " ")
    end
  end
end

function done(summary, latency, requests)
  local sent_all, unexpected_all, exhausted_all, first = 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    sent_all = sent_all + thread:get("sent")
    unexpected_all = unexpected_all + thread:get("unexpected")
    exhausted_all = exhausted_all + thread:get("exhausted")
    if first == "" then
      first = thread:get("first_unexpected")
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH-RESULT {"requests": %.0f, "duration_us": %.0f, "p50_us": %.0f, "p99_us": %.0f, "sent": %.0f, '
      .. '"unexpected": %.0f, "exhausted": %.0f, "connect": %.0f, "read": %.0f, "write": %.0f, '
      .. '"timeout": %.0f}\n',
    summary.requests, summary.duration, latency:percentile(50.0), latency:percentile(99.0), sent_all,
    unexpected_all, exhausted_all, e.connect, e.read, e.write, e.timeout
  ))
  io.write("BENCH-FIRST-UNEXPECTED " .. first .. "\n")
end
