-- W3: every service row, in storage order, for aggregation in the host language.
SELECT case_id, date, hours FROM services;
