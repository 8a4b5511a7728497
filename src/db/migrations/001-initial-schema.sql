-- Users and customers, with the constraints API.md implies and the indexes its queries need.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE users (
  id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email         TEXT NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
  name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  password_hash TEXT NOT NULL,
  role          TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user')),
  is_active     BOOLEAN NOT NULL DEFAULT TRUE,
  created_at    TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at    TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
-- Emails are unique case-insensitively; login looks them up by lower(email).
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

CREATE TABLE customers (
  id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  email      TEXT CHECK (length(email) <= 254),
  phone      TEXT CHECK (length(phone) <= 50),
  company    TEXT CHECK (length(company) <= 200),
  city       TEXT CHECK (length(city) <= 100),
  status     TEXT NOT NULL DEFAULT 'lead' CHECK (status IN ('lead', 'active', 'inactive')),
  notes      TEXT CHECK (length(notes) <= 5000),
  version    INTEGER NOT NULL DEFAULT 1,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  created_by BIGINT REFERENCES users (id) ON DELETE SET NULL
);

-- Every sort column, with id as the tie-breaker (scanned backwards for DESC).
CREATE INDEX customers_name_id_idx ON customers (name, id);
CREATE INDEX customers_created_at_id_idx ON customers (created_at, id);
CREATE INDEX customers_updated_at_id_idx ON customers (updated_at, id);
CREATE INDEX customers_city_id_idx ON customers (city, id);
CREATE INDEX customers_status_id_idx ON customers (status, id);
-- Filters combined with the default sort.
CREATE INDEX customers_status_created_at_idx ON customers (status, created_at, id);
CREATE INDEX customers_city_created_at_idx ON customers (city, created_at, id);
CREATE INDEX customers_created_by_idx ON customers (created_by);
-- q: a case-insensitive substring of name, email, company or phone.
CREATE INDEX customers_search_trgm_idx ON customers USING GIN (
  (lower(name || ' ' || coalesce(email, '') || ' ' || coalesce(company, '') || ' ' || coalesce(phone, ''))) gin_trgm_ops
);
