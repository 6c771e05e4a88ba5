-- Run once by the postgres image on an empty data directory (docker-entrypoint-initdb.d).
-- The provider's database is POSTGRES_DB (twofa); the site keeps its own, separate database.
CREATE DATABASE twofa_site OWNER twofa;
