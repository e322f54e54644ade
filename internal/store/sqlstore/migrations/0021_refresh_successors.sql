-- Refresh rotation with one successor per token (see refresh.go): the hash of the token's
-- current successor and its generation (how many successors the token has issued), until
-- when a presentation gets that same successor again, and when a successor that was never
-- used was superseded by a new one.
ALTER TABLE refresh_tokens ADD COLUMN successor_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE refresh_tokens ADD COLUMN successor_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE refresh_tokens ADD COLUMN reuse_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE refresh_tokens ADD COLUMN superseded_at BIGINT NOT NULL DEFAULT 0;
-- Tokens rotated before this migration had any number of successors, none recorded: their
-- interval is over, and a presentation is reuse, as it was.
UPDATE refresh_tokens SET reuse_until = rotated_at WHERE rotated_at != 0;
