-- wrk script for bench/reset/run.sh: POSTs a password-reset request per call, rotating through many distinct
-- addresses so no single (IP, email) pair dominates (Usher rate-limits per client IP + email).
--   BENCH_STYLE   usher (JSON {client_id, email, connection}) | peer (JSON {email})
--   BENCH_KIND    known (user<i>@bench.example.com, seeded) | unknown (nobody<i>@bench.example.com)
--   BENCH_USERS   how many addresses to rotate through (the number of seeded users)
--   BENCH_CLIENT_ID  the application's client_id (usher style)
local style = os.getenv("BENCH_STYLE") or "usher"
local kind = os.getenv("BENCH_KIND") or "known"
local users = tonumber(os.getenv("BENCH_USERS") or "1000")
local client_id = os.getenv("BENCH_CLIENT_ID") or ""
local prefix = kind == "known" and "user" or "nobody"

local threads = {}
local counter = 0
local stride = 1

function setup(thread)
  thread:set("offset", #threads)
  table.insert(threads, thread)
end

function init(args)
  counter = tonumber(offset) or 0
  stride = #threads > 0 and #threads or 2
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local i = counter % users
  counter = counter + stride
  local email = prefix .. i .. "@bench.example.com"
  local body
  if style == "usher" then
    body = '{"client_id":"' .. client_id .. '","email":"' .. email .. '","connection":"Username-Password-Authentication"}'
  else
    body = '{"email":"' .. email .. '"}'
  end
  return wrk.format(nil, nil, nil, body)
end

local statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
