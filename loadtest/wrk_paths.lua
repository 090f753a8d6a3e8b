-- wrk script: each request is a random one of the first N lines of PATHS_FILE (environment), and at
-- the end the JSON line of wrk_report.lua. Run from the repository root.
dofile("loadtest/wrk_report.lua")

local paths = {}

init = function(args)
  local n = tonumber(os.getenv("N") or "0")
  for line in io.lines(os.getenv("PATHS_FILE")) do
    if n > 0 and #paths >= n then break end
    paths[#paths + 1] = line
  end
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
end

request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
