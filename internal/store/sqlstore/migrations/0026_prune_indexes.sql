-- Pruning (DeleteExpired) by index instead of scanning every refresh token and family on
-- every run (see qPruneTokens): the tokens that were presented, by the end of their reuse
-- interval; the superseded ones; rotated tokens from before migration 0021, which recorded
-- no successor (none are written any more, so that index stays empty); and the families by
-- their absolute expiry.
CREATE INDEX refresh_tokens_rotated ON refresh_tokens (reuse_until) WHERE rotated_at != 0;
CREATE INDEX refresh_tokens_superseded ON refresh_tokens (superseded_at) WHERE superseded_at != 0;
CREATE INDEX refresh_tokens_unrecorded ON refresh_tokens (reuse_until) WHERE rotated_at != 0 AND successor_hash = '';
CREATE INDEX refresh_families_expiry ON refresh_families (absolute_expires_at);
