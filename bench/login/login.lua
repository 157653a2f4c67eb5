-- wrk script for bench/login/run.sh: one password-realm login per request (POST /oauth/token, JSON, as Auth0's SDKs
-- send it), rotating through BENCH_USERS distinct seeded users (user<i>@bench.example.com, password Bench-<i>-password!)
-- so no single user's row or (email, IP) pair dominates. Every password is right: brute-force counters only count
-- failures.
--   BENCH_USERS, BENCH_CLIENT_ID, BENCH_CLIENT_SECRET, BENCH_SCOPE (default "openid profile email")
local users = tonumber(os.getenv("BENCH_USERS") or "500")
local client_id = os.getenv("BENCH_CLIENT_ID") or ""
local client_secret = os.getenv("BENCH_CLIENT_SECRET") or ""
local scope = os.getenv("BENCH_SCOPE") or "openid profile email"

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
  local body = '{"grant_type":"http://auth0.com/oauth/grant-type/password-realm","realm":"Username-Password-Authentication"'
    .. ',"client_id":"' .. client_id .. '","client_secret":"' .. client_secret .. '"'
    .. ',"username":"user' .. i .. '@bench.example.com","password":"Bench-' .. i .. '-password!"'
    .. ',"scope":"' .. scope .. '"}'
  return wrk.format(nil, nil, nil, body)
end
