-- koop.events — what happens to domain objects, for procedures and scripts.
--
--   koop.on(name, fn)        call fn(object, event) after each `name` event;
--                            returns a function that removes the handler
--   events.emit(name, obj, data)   called by the domain code; event is
--                            {name = name, ...data}
--   events.clear([name])     remove handlers (all, or one event's)
--
-- The entity framework emits "<entity>.added" and "<entity>.updated" (event
-- fields: changes = {field = {old, new}}) inside the transaction of the
-- change, after the change and its audit row are written: an error in a
-- handler rolls the change back.  Handlers run in registration order.
-- Emitting an event nobody listens to costs one table lookup.
local koop = require "koop"

local M = {}
local handlers = {}          -- name -> array of functions (never emptied in place)
M.handlers = handlers        -- read by koop.entity to skip events nobody hears

--- Register fn for event `name`; returns the function that unregisters it.
function M.on(name, fn)
  if type(name) ~= "string" or name == "" then
    koop.raise{ code = "invalid", field = "event", message = "koop.on: the event name must be a string like \"institution.added\"" }
  end
  if type(fn) ~= "function" then
    koop.raise{ code = "invalid", field = "handler", message = ("koop.on(%q, fn): fn must be a function, got %s"):format(name, type(fn)) }
  end
  -- lists are replaced, never changed in place, so that a handler added
  -- or removed while an event runs does not disturb that run
  local list = { table.unpack(handlers[name] or {}) }
  list[#list + 1] = fn
  handlers[name] = list
  return function()
    local kept = {}
    for _, f in ipairs(handlers[name] or {}) do
      if f ~= fn then kept[#kept + 1] = f end
    end
    handlers[name] = #kept > 0 and kept or nil
  end
end

--- Call the handlers of `name` with obj and the event {name=, ...data}.
function M.emit(name, obj, data)
  local list = handlers[name]
  if not list then return end
  local event = { name = name }
  if data then for k, v in pairs(data) do event[k] = v end end
  for i = 1, #list do list[i](obj, event) end
end

--- Is anyone listening to `name`?
function M.listening(name) return handlers[name] ~= nil end

--- Remove the handlers of one event, or of all events.
function M.clear(name)
  if name then handlers[name] = nil return end
  for k in pairs(handlers) do handlers[k] = nil end
end

koop.on = M.on
return M
