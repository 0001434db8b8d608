-- bench-rest.lua - wrk script for bench/bench-rest.sh: POST /v1/ports with
-- unique VM names, MACs and interfaces, spread over the networks net-0..
-- and hypervisors hv-0.. the script created.  Run with one wrk thread:
--   wrk -t1 -cC -d600s -s bench-rest.lua URL -- N_PORTS N_NETS N_HVS
-- After N_PORTS port requests it only sends GET /healthz and stops the
-- thread once every port request is answered; the shell then interrupts
-- wrk.  done() prints one line:
--   RESULT ports=N errors=E seconds=S rate=R p50_ms=A p99_ms=B
-- (the rate is timed from the first request to the last port answer; the
-- latency percentiles cover the port requests and at most C-1 health
-- checks).
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } nvo_timespec;
int clock_gettime(int clk_id, nvo_timespec *tp);
]]
local ts = ffi.new("nvo_timespec")
local function now()
   ffi.C.clock_gettime(1, ts)          -- CLOCK_MONOTONIC
   return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local the_thread

function setup(thread)
   the_thread = thread
end

function init(args)
   n_ports = tonumber(args[1])
   n_nets = tonumber(args[2])
   n_hvs = tonumber(args[3])
   sent, answered, errors = 0, 0, 0
   t_start, t_end = nil, nil
end

-- With NVO_BENCH_TOKEN set (bench-rest.sh's HTTPS runs), every request
-- carries it as a bearer token.
local token = os.getenv("NVO_BENCH_TOKEN")
if token and token ~= "" then
   wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
   if not verified then
      -- wrk calls request() once after init() to count pipelined requests
      -- (script_verify_request) and discards the result: use no index.
      verified = true
      return wrk.format("GET", "/healthz")
   end
   if not t_start then
      t_start = now()
   end
   if sent >= n_ports then
      return wrk.format("GET", "/healthz")
   end
   local n = sent
   sent = sent + 1
   local body = string.format(
      '{"vm":"vm-%d","network":"net-%d","hypervisor":"hv-%d",' ..
      '"mac":"02:00:00:%02x:%02x:%02x","iface":"t%d"}',
      n, n % n_nets, n % n_hvs, math.floor(n / 65536) % 256,
      math.floor(n / 256) % 256, n % 256, n)
   local h = { ["Content-Type"] = "application/json" }
   if token and token ~= "" then
      h["Authorization"] = "Bearer " .. token
   end
   return wrk.format("POST", "/v1/ports", h, body)
end

function response(status, headers, body)
   if status == 200 then
      return                              -- a health check
   end
   answered = answered + 1
   if status ~= 201 then
      errors = errors + 1
   end
   if answered == n_ports then
      t_end = now()
      wrk.thread:set("seconds", t_end - t_start)
      wrk.thread:set("errors", errors)
      wrk.thread:set("ports", answered)
      wrk.thread:stop()
   end
end

function done(summary, latency, requests)
   local seconds = the_thread:get("seconds") or 0
   local errors = the_thread:get("errors") or -1
   local ports = the_thread:get("ports") or 0
   io.write(string.format(
      "RESULT ports=%d errors=%d seconds=%.3f rate=%.0f p50_ms=%.2f " ..
      "p99_ms=%.2f\n", ports, errors, seconds,
      seconds > 0 and ports / seconds or 0,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
