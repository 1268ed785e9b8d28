-- scripts/bench/domain_digest.lua — one line per table of the issue-3
-- benchmark: its row count and the SHA-256 of its rows, so w_domain.sh can
-- check that the domain API and the plain INSERTs wrote the same rows.
-- Then the audit check: "ok", audit rows, data rows (or the first problem).
local tables = {
  { "territory", "terc, name, level, rodzaj, parent_terc", "terc" },
  { "institution", "id, name, kind, sector, level, gmina_terc, regon, city, postal_code, active", "id" },
  { "person", "id, first_name, last_name, institution_id, position, active", "id" },
  { "team", "id, kind, gmina_terc, name, agreement_id, formed_on", "id" },
  { "meeting", "id, team_id, kind, date, days, place, status", "id" },
  { "attendance", "meeting_id, person_id, institution_id, status", "meeting_id, person_id" },
}
local data = 0
for _, t in ipairs(tables) do
  local line = "quote(" .. t[2]:gsub(", ", ") || '|' || quote(") .. ")"
  local r = db:first(("SELECT count(*) AS n, group_concat(line, char(10)) AS text FROM (SELECT %s AS line FROM %s ORDER BY %s)")
    :format(line, t[1], t[3]))
  print(("%-12s %6d %s"):format(t[1], r.n, koop.sha256(r.text or "")))
  data = data + r.n
end
if arg[1] == "audit" then
  local ok, problems, n = audit.verify()
  print(ok and "audit ok" or "audit " .. problems[1], n, data)
end
