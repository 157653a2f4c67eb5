-- wrk script: POST /api/v2/users with a unique e-mail per request.
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  token = os.getenv("USHER_BENCH_TOKEN")
  prefix = os.getenv("USHER_BENCH_PREFIX") or "b"
end

function request()
  counter = counter + 1
  local body = string.format('{"connection":"Username-Password-Authentication","email":"%s-%d-%d@example.com","app_metadata":{"needsInvitation":true}}', prefix, tid, counter)
  return wrk.format("POST", "/api/v2/users", {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end
