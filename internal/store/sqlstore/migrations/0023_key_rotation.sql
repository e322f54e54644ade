-- Key rotation: when a key entered its state (published as next, signing as current, retired),
-- and at most one next key.
ALTER TABLE signing_keys ADD COLUMN state_since BIGINT NOT NULL DEFAULT 0;
UPDATE signing_keys SET state_since = created_at;
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (state) WHERE state = 'next';
