-- koop.chart — charts for reports as inline SVG (no script, no external
-- file, no font download): the HTML report stays one self-contained file
-- that prints on A4 and reads on a phone.
--
--   chart.svg(spec) -> SVG text
--   chart.text(spec) -> a plain-text rendering (for Markdown and terminals)
--
-- spec: { type = "bar" | "stacked" | "line", title =,
--         categories = {"label", ...},                 -- bars / x positions
--         series = { {name =, values = {n | false, ...}}, ... },
--         hidden = { [i] = { [s] = "<5" } },           -- suppressed values
--         format = function(n) -> text }               -- value labels
-- Bars are horizontal (long Polish names stay readable, also on a phone),
-- one bar per category; "stacked" stacks the series in each bar; "line"
-- draws each series over the categories in order (months, years).  A
-- hidden value is not drawn: its bar carries its sign ("<5") instead.
local M = {}

-- Okabe–Ito colours: distinguishable with every common colour blindness,
-- and in grey when printed.
local PALETTE = { "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000" }
M.palette = PALETTE

local W = 720                 -- viewBox width; the SVG scales to its box
local FONT = 12               -- px in the viewBox
local CHAR = 7.4              -- a generous advance of a character at FONT (no clipping)

-- XML text: & < > " escaped.
local function esc(s)
  return (tostring(s):gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" }))
end
M.escape = esc

-- Characters (not bytes) of a UTF-8 text.
local function len(s) return utf8.len(s) or #s end

-- s cut to n characters with "…".
local function cut(s, n)
  if len(s) <= n then return s end
  return s:sub(1, (utf8.offset(s, n) or #s + 1) - 1) .. "…"
end

-- A number with Polish separators: 12 345,5 (U+00A0 from 10 000 on).
local function pl_number(n)
  if n ~= n then return "–" end
  local neg = n < 0
  if neg then n = -n end
  local int, frac
  if math.type(n) == "integer" then
    int, frac = tostring(n), ""
  else
    local s = ("%.2f"):format(n):gsub("0+$", ""):gsub("%.$", "")
    int, frac = s:match("^(%d+)(.*)$")
    frac = frac:gsub("%.", ",")
  end
  if #int > 4 then                 -- groups of three from the right, U+00A0 between
    int = int:reverse():gsub("(%d%d%d)", "%1 "):reverse():gsub("^ ", ""):gsub(" ", "\194\160")
  end
  return (neg and "-" or "") .. int .. frac
end
M.number = pl_number

-- Round tick step for a range 0..max with about n ticks: 1, 2, 5 × 10^k.
local function nice_step(max, n)
  if max <= 0 then return 1 end
  local raw = max / n
  local mag = 10 ^ math.floor(math.log(raw, 10))
  for _, m in ipairs{ 1, 2, 5, 10 } do
    if m * mag >= raw then
      local step = m * mag
      return math.tointeger(step) or step
    end
  end
  return 10 * mag
end
M.nice_step = nice_step

-- Are all values whole numbers?
local function all_whole(spec)
  for _, s in ipairs(spec.series) do
    for i = 1, #spec.categories do
      local v = s.values[i]
      if type(v) == "number" and math.type(v) ~= "integer" and v ~= math.floor(v) then return false end
    end
  end
  return true
end

-- The largest value to scale to (a bar's stack for "stacked").
local function top_value(spec)
  local max = 0
  for i = 1, #spec.categories do
    local sum = 0
    for _, s in ipairs(spec.series) do
      local v = s.values[i]
      if type(v) == "number" and v > 0 then
        if spec.type == "stacked" then sum = sum + v elseif v > max then max = v end
      end
    end
    if sum > max then max = sum end
  end
  return max
end

-- Ticks 0, step, ... up to at least max; returns the list and the scale
-- top.  Whole numbers (counts) get whole steps.
local function ticks(max, whole)
  local step = nice_step(max, 5)
  if whole and step < 1 then step = 1 end
  local list, t = { 0 }, 0
  while t < max do t = t + step; list[#list + 1] = t end
  return list, t > 0 and t or 1
end

-- The legend for several series, as SVG at y; returns its height.
local function legend(out, spec, x0, y)
  if #spec.series < 2 then return 0 end
  local x = x0
  for s, ser in ipairs(spec.series) do
    local w = 18 + len(ser.name) * CHAR + 14
    if x + w > W - 8 and x > x0 then x, y = x0, y + 18 end
    out[#out + 1] = ('<rect x="%.1f" y="%.1f" width="12" height="12" fill="%s"/>'):format(x, y - 10, PALETTE[(s - 1) % #PALETTE + 1])
    out[#out + 1] = ('<text x="%.1f" y="%.1f">%s</text>'):format(x + 16, y, esc(ser.name))
    x = x + w
  end
  return 24
end

-- Opening <svg> with its accessible name.
local function open(out, h, spec)
  out[#out + 1] = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="100%%" role="img" aria-label="%s" '
    .. 'font-family="system-ui, -apple-system, \'Segoe UI\', Roboto, \'DejaVu Sans\', sans-serif" font-size="%d" class="chart">')
    :format(W, math.ceil(h), esc(spec.title or "wykres"), FONT)
  if spec.title then out[#out + 1] = ("<title>%s</title>"):format(esc(spec.title)) end
end

-- Horizontal bars (one series, or stacked series).
local function bars(spec)
  local cats, fmt = spec.categories, spec.format or pl_number
  local widest = 0
  for _, c in ipairs(cats) do widest = math.max(widest, len(c)) end
  local label_chars = math.min(widest, 34)
  local left = math.max(60, label_chars * CHAR + 12)
  local right = 70                        -- room for the value at the end
  local plot = W - left - right
  local bar, gap = 18, 8
  local top = 8
  local out = {}
  local lh = #spec.series > 1 and (math.ceil(#spec.series / 4) * 18 + 8) or 0
  local h = top + lh + #cats * (bar + gap) + 30
  local tks, scale = ticks(top_value(spec), all_whole(spec))
  open(out, h, spec)
  legend(out, spec, left, top + 12)
  local y0 = top + lh
  local y1 = y0 + #cats * (bar + gap)
  -- grid and axis
  for _, t in ipairs(tks) do
    local x = left + plot * t / scale
    out[#out + 1] = ('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#d0d0d0" stroke-width="1"/>'):format(x, y0, x, y1)
    out[#out + 1] = ('<text x="%.1f" y="%.1f" text-anchor="middle" fill="#444">%s</text>'):format(x, y1 + 16, esc(fmt(t)))
  end
  for i, c in ipairs(cats) do
    local y = y0 + (i - 1) * (bar + gap) + gap / 2
    local label = cut(c, label_chars)
    out[#out + 1] = ('<text x="%.1f" y="%.1f" text-anchor="end" dominant-baseline="middle">%s%s</text>')
      :format(left - 8, y + bar / 2, label ~= c and ("<title>" .. esc(c) .. "</title>") or "", esc(label))
    local x, sum, hidden = left, 0, nil
    for s, ser in ipairs(spec.series) do
      local mark = spec.hidden and spec.hidden[i] and spec.hidden[i][s]
      local v = ser.values[i]
      if mark then
        hidden = mark
      elseif type(v) == "number" and v > 0 then
        local w = plot * v / scale
        out[#out + 1] = ('<rect x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s"><title>%s: %s</title></rect>')
          :format(x, y, w, bar, PALETTE[(s - 1) % #PALETTE + 1], esc(#spec.series > 1 and (c .. ", " .. ser.name) or c), esc(fmt(v)))
        x = x + w
        sum = sum + v
      end
    end
    local text = hidden and (sum > 0 and (fmt(sum) .. " + " .. hidden) or hidden) or fmt(sum)
    out[#out + 1] = ('<text x="%.1f" y="%.1f" dominant-baseline="middle" fill="#222">%s</text>'):format(x + 4, y + bar / 2, esc(text))
  end
  out[#out + 1] = ('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#444"/>'):format(left, y0, left, y1)
  out[#out + 1] = "</svg>"
  return table.concat(out, "\n")
end

-- Lines over the categories in order.
local function lines(spec)
  local cats, fmt = spec.categories, spec.format or pl_number
  local left, right, top = 56, 16, 8
  local lh = #spec.series > 1 and (math.ceil(#spec.series / 4) * 18 + 8) or 0
  local ph = 220
  local widest = 0
  for _, c in ipairs(cats) do widest = math.max(widest, len(c)) end
  local plot = W - left - right
  local slot = #cats > 1 and plot / (#cats - 1) or plot
  -- label every n-th category so that labels do not overlap
  local every = math.max(1, math.ceil((math.min(widest, 16) * CHAR + 8) / math.max(slot, 1)))
  local h = top + lh + ph + 40
  local out = {}
  local tks, scale = ticks(top_value(spec), all_whole(spec))
  open(out, h, spec)
  legend(out, spec, left, top + 12)
  local y0, y1 = top + lh, top + lh + ph
  local function xof(i) return #cats > 1 and left + (i - 1) * slot or left + plot / 2 end
  local function yof(v) return y1 - ph * v / scale end
  for _, t in ipairs(tks) do
    local y = yof(t)
    out[#out + 1] = ('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#d0d0d0"/>'):format(left, y, W - right, y)
    out[#out + 1] = ('<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle" fill="#444">%s</text>'):format(left - 6, y, esc(fmt(t)))
  end
  for i, c in ipairs(cats) do
    if (i - 1) % every == 0 then
      out[#out + 1] = ('<text x="%.1f" y="%.1f" text-anchor="middle" fill="#444">%s</text>'):format(xof(i), y1 + 16, esc(cut(c, 16)))
    end
  end
  for s, ser in ipairs(spec.series) do
    local colour = PALETTE[(s - 1) % #PALETTE + 1]
    local pts, run = {}, {}
    local function flush()
      if #run > 1 then
        out[#out + 1] = ('<polyline fill="none" stroke="%s" stroke-width="2.5" points="%s"/>'):format(colour, table.concat(run, " "))
      end
      run = {}
    end
    for i = 1, #cats do
      local mark = spec.hidden and spec.hidden[i] and spec.hidden[i][s]
      local v = ser.values[i]
      if mark or type(v) ~= "number" then
        flush()
        if mark then
          out[#out + 1] = ('<text x="%.1f" y="%.1f" text-anchor="middle" fill="%s">%s</text>'):format(xof(i), y1 - 6, colour, esc(mark))
        end
      else
        run[#run + 1] = ("%.1f,%.1f"):format(xof(i), yof(v))
        pts[#pts + 1] = ('<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s: %s</title></circle>')
          :format(xof(i), yof(v), colour, esc(cats[i] .. (#spec.series > 1 and (", " .. ser.name) or "")), esc(fmt(v)))
      end
    end
    flush()
    for _, p in ipairs(pts) do out[#out + 1] = p end
  end
  out[#out + 1] = ('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#444"/>'):format(left, y1, W - right, y1)
  out[#out + 1] = "</svg>"
  return table.concat(out, "\n")
end

--- The SVG text of a chart spec (see the top of this file).
function M.svg(spec)
  if spec.type == "line" then return lines(spec) end
  return bars(spec)
end

--- A text rendering: bars of █ scaled to 30 characters, or a list for lines.
function M.text(spec)
  local fmt = spec.format or pl_number
  local out = {}
  local widest = 0
  for _, c in ipairs(spec.categories) do widest = math.max(widest, math.min(len(c), 38)) end
  local max = top_value(spec)
  local names = {}
  for s, ser in ipairs(spec.series) do names[s] = ser.name end
  for i, c in ipairs(spec.categories) do
    local label = cut(c, 38)
    local pad = string.rep(" ", widest - len(label))
    if spec.type == "line" or #spec.series > 1 and spec.type ~= "stacked" then
      local parts = {}
      for s, ser in ipairs(spec.series) do
        local mark = spec.hidden and spec.hidden[i] and spec.hidden[i][s]
        local v = ser.values[i]
        parts[#parts + 1] = (#spec.series > 1 and (ser.name .. " ") or "") .. (mark or (type(v) == "number" and fmt(v) or "–"))
      end
      out[#out + 1] = label .. pad .. "  " .. table.concat(parts, ", ")
    else
      local sum, hidden = 0, nil
      for s, ser in ipairs(spec.series) do
        local mark = spec.hidden and spec.hidden[i] and spec.hidden[i][s]
        local v = ser.values[i]
        if mark then hidden = mark elseif type(v) == "number" and v > 0 then sum = sum + v end
      end
      local n = max > 0 and math.floor(sum / max * 30 + 0.5) or 0
      local text = hidden and (sum > 0 and (fmt(sum) .. " + " .. hidden) or hidden) or fmt(sum)
      out[#out + 1] = label .. pad .. "  " .. string.rep("█", n) .. (n > 0 and " " or "") .. text
    end
  end
  if spec.type == "stacked" and #names > 1 then
    out[#out + 1] = "(" .. table.concat(names, " + ") .. ")"
  end
  return table.concat(out, "\n")
end

return M
