-- Device authorizations (RFC 8628 device code grant). Only hashes of the device code and the
-- user code are kept. The grant columns are those of auth_codes: client_id and claims are the
-- request's from the start, the others are set when the user approves.
CREATE TABLE device_codes (
    hash           TEXT PRIMARY KEY,
    user_code_hash TEXT NOT NULL UNIQUE,
    tenant_segment TEXT NOT NULL,
    scope          TEXT NOT NULL,
    status         TEXT NOT NULL,
    tenant_id      TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    session_id     TEXT NOT NULL,
    platform       TEXT NOT NULL,
    resource       TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    auth_time      BIGINT NOT NULL,
    amr            TEXT NOT NULL,
    remember       BOOLEAN NOT NULL,
    claims         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    entered_at     BIGINT NOT NULL DEFAULT 0,
    last_polled_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX device_codes_expiry ON device_codes (expires_at);
