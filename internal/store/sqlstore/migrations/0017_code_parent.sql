-- A hybrid spa_code is issued by the redemption of another code (a web app's, with
-- return_spa_code=1). parent_hash names that code, so that a replay of it also burns the
-- spa_code and revokes what the spa_code issued.
ALTER TABLE auth_codes ADD COLUMN parent_hash TEXT NOT NULL DEFAULT '';
CREATE INDEX auth_codes_parent ON auth_codes (parent_hash) WHERE parent_hash <> '';
