-- scripts/bench/domain_api.lua — the issue-3 benchmark through the domain
-- API: institutions.add, people.add, agreements, teams.add, meetings.add,
-- m:attend, all in one transaction, with validation, the audit log and
-- events as users get them.  Run by w_domain.sh: koop -d DB domain_api.lua
local here = arg[0]:match("^(.*/)") or "./"
local D = dofile(here .. "domain_data.lua")

db:tx(function()
  gminas.ensure(D.GMINA)
  local inst, person, team = {}, {}, {}
  for i = 1, D.INSTITUTIONS do
    local r = D.institution(i)
    inst[i] = institutions.add{ name = r.name, kind = r.kind, gmina = D.GMINA, regon = r.regon,
      city = r.city, postal_code = r.postal_code }
  end
  for i = 1, D.PEOPLE do
    local r = D.person(i)
    person[i] = people.add{ first_name = r.first_name, last_name = r.last_name,
      institution = inst[r.institution], position = r.position }
  end
  local a = agreements.add{ title = "Porozumienie o współpracy" }
  a:add_party{ institution = inst[1] }
  a:add_party{ institution = inst[2] }
  a:sign{ date = "2019-06-04" }
  for i = 1, D.TEAMS do
    team[i] = teams.add{ kind = "G-PZK", gmina = D.GMINA, agreement = a, name = "Zespół " .. i,
      formed_on = "2019-07-01" }
  end
  for i = 1, D.MEETINGS do
    local r = D.meeting(i)
    local m = meetings.add{ team = team[r.team], kind = r.kind, date = r.date, place = r.place, status = "held" }
    for k = 1, D.ATTENDEES do
      local p, status = D.attendee(i, k)
      m:attend(person[p], status)
    end
  end
end)
