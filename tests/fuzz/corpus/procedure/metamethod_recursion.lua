local t = setmetatable({}, { __index = function(t, k) return t[k] end })
return koop.procedure { name = t.x, version = 1 }
