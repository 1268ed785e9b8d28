-- W2: services, hours and cost per institution x service type x quarter.
SELECT institution_id,
       service_type,
       substr(date, 1, 4) || '-Q' || ((CAST(substr(date, 6, 2) AS INTEGER) + 2) / 3) AS quarter,
       count(*) AS services,
       printf('%.2f', sum(hours)) AS hours,
       sum(cost_grosze) AS cost_grosze
FROM services
GROUP BY institution_id, service_type, quarter
ORDER BY institution_id, service_type, quarter;
