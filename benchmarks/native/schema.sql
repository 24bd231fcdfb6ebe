-- The native reference's own tables, in a schema of their own beside the app's (make bench-verify creates
-- them in the benchmark's database; the tests in the test database).
DROP SCHEMA IF EXISTS native CASCADE;
CREATE SCHEMA native;

CREATE TABLE native.subjects (
    id text PRIMARY KEY,
    standing text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE native.scans (
    id uuid PRIMARY KEY,
    subject_id text NOT NULL REFERENCES native.subjects (id),
    handle text NOT NULL,
    scenario text NOT NULL,
    decision text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
