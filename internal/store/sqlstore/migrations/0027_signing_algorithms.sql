-- Signing keys of several algorithms (RS256, ES256), each its own lineage: one current and
-- at most one next key per algorithm. APIs choose the algorithm of their access tokens
-- (signingAlg), apps that of their ID tokens (idTokenSigningAlg); '' is RS256.
DROP INDEX signing_keys_one_current;
DROP INDEX signing_keys_one_next;
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (algorithm) WHERE state = 'current';
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (algorithm) WHERE state = 'next';
ALTER TABLE apis ADD COLUMN signing_alg TEXT NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN id_token_signing_alg TEXT NOT NULL DEFAULT '';
