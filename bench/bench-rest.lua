-- bench-rest.lua - wrk script for bench/bench-rest.sh: POST /v1/ports with
-- unique VM names, MACs and interfaces, spread over the networks net-0..
-- and hypervisors hv-0.. the script created.  Run with one wrk thread:
--   wrk -t1 -cC -d600s -s bench-rest.lua URL -- N_PORTS N_NETS N_HVS [DEPTH]
-- With DEPTH > 1 each connection pipelines (HTTP/1.1): it sends DEPTH
-- requests back to back and the next DEPTH once all of them are answered.
-- wrk then times each group, not each request, so this script times each
-- port request itself, from its group's sending to its answer (run with
-- one connection: the script cannot tell connections apart).
-- After N_PORTS port requests it only sends GET /healthz and stops the
-- thread once every port request is answered, then creates the file
-- named by NVO_BENCH_DONE_FILE (if set), for which the shell waits before
-- it interrupts wrk.  done() prints one line:
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
   depth = tonumber(args[4] or "1")
   sent, answered, errors = 0, 0, 0
   lat = {}                              -- DEPTH > 1: per request, in s
   t_start, t_end = nil, nil
end

-- With NVO_BENCH_TOKEN set (bench-rest.sh's HTTPS runs), every request
-- carries it as a bearer token.
local token = os.getenv("NVO_BENCH_TOKEN")
if token and token ~= "" then
   wrk.headers["Authorization"] = "Bearer " .. token
end

-- One request: the next port, or a health check once all were sent.
local function one()
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

function request()
   if not verified then
      -- wrk calls request() once after init() to count pipelined requests
      -- (script_verify_request) and discards the result: use no index.
      verified = true
      return string.rep(wrk.format("GET", "/healthz"), depth)
   end
   if not t_start then
      t_start = now()
   end
   t_group = now()
   local reqs = {}
   for i = 1, depth do
      reqs[i] = one()
   end
   return table.concat(reqs)
end

function response(status, headers, body)
   if status == 200 then
      return                              -- a health check
   end
   answered = answered + 1
   if status ~= 201 then
      errors = errors + 1
   end
   if depth > 1 then
      lat[answered] = now() - t_group
   end
   if answered == n_ports then
      t_end = now()
      if depth > 1 then
         table.sort(lat)
         wrk.thread:set("p50", lat[math.max(1, math.ceil(#lat * 0.50))])
         wrk.thread:set("p99", lat[math.max(1, math.ceil(#lat * 0.99))])
      end
      wrk.thread:set("seconds", t_end - t_start)
      wrk.thread:set("errors", errors)
      wrk.thread:set("ports", answered)
      local path = os.getenv("NVO_BENCH_DONE_FILE")
      if path and path ~= "" then
         local f = io.open(path, "w")
         if f then
            f:write("done\n")
            f:close()
         end
      end
      wrk.thread:stop()
   end
end

function done(summary, latency, requests)
   local seconds = the_thread:get("seconds") or 0
   local errors = the_thread:get("errors") or -1
   local ports = the_thread:get("ports") or 0
   local p50 = the_thread:get("p50")
   local p99 = the_thread:get("p99")
   p50 = p50 and p50 * 1000 or latency:percentile(50) / 1000
   p99 = p99 and p99 * 1000 or latency:percentile(99) / 1000
   io.write(string.format(
      "RESULT ports=%d errors=%d seconds=%.3f rate=%.0f p50_ms=%.2f " ..
      "p99_ms=%.2f\n", ports, errors, seconds,
      seconds > 0 and ports / seconds or 0, p50, p99))
end
