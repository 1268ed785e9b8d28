-- The benchmark's table, created by every contender in a fresh database.
CREATE TABLE services (
  id             INTEGER PRIMARY KEY,
  case_id        INTEGER NOT NULL,
  institution_id INTEGER NOT NULL,
  service_type   TEXT    NOT NULL,
  date           TEXT    NOT NULL,   -- ISO YYYY-MM-DD
  hours          REAL    NOT NULL,
  cost_grosze    INTEGER NOT NULL
);
