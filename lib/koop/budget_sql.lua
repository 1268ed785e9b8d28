-- koop.budget_sql — the SQL of budget figures: what is planned, committed,
-- paid and delivered on a line or a commitment, as SQL expressions, and the
-- execution table of a budget.  koop.budgets builds its rules (CHECK
-- triggers) and methods from these; the reports use the execution table
-- without loading the whole budget module.
local M = {}

-- The plan of line L (an SQL expression naming the line's id) after the
-- moves of amendments dated up to ON (an SQL expression).
function M.planned(L, ON)
  return ([[(SELECT planned_gr FROM budget_line WHERE id = %s)
   + coalesce((SELECT sum(m.amount_gr) FROM budget_move m JOIN budget_amendment a ON a.id = m.amendment_id
                WHERE m.to_line_id = %s AND a.date <= %s), 0)
   - coalesce((SELECT sum(m.amount_gr) FROM budget_move m JOIN budget_amendment a ON a.id = m.amendment_id
                WHERE m.from_line_id = %s AND a.date <= %s), 0)]]):format(L, L, ON, L, ON)
end

-- What is committed on line L, and what is left to pay on commitment C
-- (after its reductions and payments), as SQL expressions.
function M.committed(L)
  return ("coalesce((SELECT sum(amount_gr) FROM commitment WHERE line_id = %s), 0)"):format(L)
end
function M.net_commitment(C)
  return ("(SELECT amount_gr FROM commitment WHERE id = %s)"
    .. " + coalesce((SELECT sum(amount_gr) FROM commitment WHERE reduces_id = %s), 0)")
    :format(C, C)
end
function M.paid(C)
  return ("coalesce((SELECT sum(amount_gr) FROM expenditure WHERE commitment_id = %s), 0)"):format(C)
end
function M.delivered(C)
  return ("coalesce((SELECT sum(cost) FROM service_delivery WHERE commitment_id = %s), 0)"):format(C)
end
function M.budget_status(L)
  return ("(SELECT b.status FROM budget_line l JOIN budget b ON b.id = l.budget_id WHERE l.id = %s)"):format(L)
end

-- Plan (after the moves up to ?2), committed, spent of lines, in grosze,
-- counting only what is dated up to ?2, for the lines that `where` selects.
function M.figures(where)
  return [[
SELECT l.id, l.no, l.name, l.budget_id, ]] .. M.planned("l.id", "?2") .. [[ AS planned,
  coalesce((SELECT sum(c.amount_gr) FROM commitment c WHERE c.line_id = l.id AND c.signed_on <= ?2), 0) AS committed,
  coalesce((SELECT sum(e.amount_gr) FROM commitment c JOIN expenditure e ON e.commitment_id = c.id
             WHERE c.line_id = l.id AND e.paid_on <= ?2), 0) AS spent
  FROM budget_line l WHERE ]] .. where .. " ORDER BY l.no"
end

-- The execution table of budget ?1 as of date ?2 (b:execution, the report).
M.execution = M.figures("l.budget_id = ?1")

return M
