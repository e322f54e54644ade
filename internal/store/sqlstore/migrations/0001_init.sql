-- Sigil's first schema. One SQL text for SQLite and PostgreSQL: TEXT keys chosen by the
-- application, BIGINT unix milliseconds for times (0 = not set), BOOLEAN, BYTEA, no serial
-- columns, no engine-only functions. Hashes of secrets (codes, refresh tokens, cookies) are
-- stored as base64url TEXT; the secrets themselves never are.

CREATE TABLE tenants (
    id           TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE tenant_domains (
    domain    TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE
);
CREATE INDEX tenant_domains_tenant ON tenant_domains (tenant_id);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    given_name    TEXT NOT NULL,
    surname       TEXT NOT NULL,
    email         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    enabled       BOOLEAN NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE apps (
    client_id               TEXT PRIMARY KEY,
    tenant_id               TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    display_name            TEXT NOT NULL,
    sign_in_audience        TEXT NOT NULL,
    consent                 TEXT NOT NULL,
    implicit_id_tokens      BOOLEAN NOT NULL,
    implicit_access_tokens  BOOLEAN NOT NULL,
    logout_url              TEXT NOT NULL,
    backchannel_logout_url  TEXT NOT NULL,
    optional_id_claims      TEXT NOT NULL, -- space-separated claim names
    optional_access_claims  TEXT NOT NULL,
    access_token_ms         BIGINT NOT NULL, -- lifetimes: 0 = inherit the server default
    id_token_ms             BIGINT NOT NULL,
    auth_code_ms            BIGINT NOT NULL,
    refresh_reuse_ms        BIGINT NOT NULL,
    refresh_idle_ms         BIGINT NOT NULL,
    refresh_spa_absolute_ms BIGINT NOT NULL,
    refresh_absolute_ms     BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);

-- One row per list entry of an app: redirect URIs (kind 'r', with platform and origin),
-- post-logout redirect URIs ('p') and client secret hashes ('s').
CREATE TABLE app_uris (
    client_id TEXT NOT NULL REFERENCES apps (client_id) ON DELETE CASCADE,
    kind      TEXT NOT NULL,
    value     TEXT NOT NULL,
    platform  TEXT NOT NULL,
    origin    TEXT NOT NULL,
    position  INTEGER NOT NULL,
    PRIMARY KEY (client_id, kind, value)
);
CREATE INDEX app_uris_origin ON app_uris (origin, platform);
CREATE INDEX app_uris_value ON app_uris (value);

CREATE TABLE apis (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    app_id_uri_key TEXT NOT NULL, -- lower-case, for lookups
    app_id_uri     TEXT NOT NULL,
    display_name   TEXT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, app_id_uri_key)
);

CREATE TABLE api_scopes (
    tenant_id              TEXT NOT NULL,
    app_id_uri_key         TEXT NOT NULL,
    value                  TEXT NOT NULL,
    admin_consent_required BOOLEAN NOT NULL,
    description            TEXT NOT NULL,
    position               INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, app_id_uri_key, value),
    FOREIGN KEY (tenant_id, app_id_uri_key) REFERENCES apis (tenant_id, app_id_uri_key) ON DELETE CASCADE
);

-- Consent: one row per granted scope; user_id '' is a tenant-wide grant by an administrator.
CREATE TABLE grants (
    client_id  TEXT NOT NULL,
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    resource   TEXT NOT NULL,
    scope      TEXT NOT NULL, -- lower-case
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, tenant_id, user_id, resource, scope)
);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    browser_hash TEXT NOT NULL,
    tenant_id    TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    auth_time    BIGINT NOT NULL,
    amr          TEXT NOT NULL,
    remember     BOOLEAN NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    UNIQUE (browser_hash, user_id)
);

CREATE TABLE interactions (
    id           TEXT PRIMARY KEY,
    browser_hash TEXT NOT NULL,
    request      BYTEA NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);

CREATE TABLE auth_codes (
    hash           TEXT PRIMARY KEY,
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
    redirect_uri   TEXT NOT NULL,
    redirect_given BOOLEAN NOT NULL,
    nonce          TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    redeemed_at    BIGINT NOT NULL DEFAULT 0,
    replayed_at    BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE refresh_families (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL,
    client_id           TEXT NOT NULL,
    user_id             TEXT NOT NULL,
    session_id          TEXT NOT NULL,
    platform            TEXT NOT NULL,
    resource            TEXT NOT NULL,
    scopes              TEXT NOT NULL,
    auth_time           BIGINT NOT NULL,
    amr                 TEXT NOT NULL,
    remember            BOOLEAN NOT NULL,
    code_hash           TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    absolute_expires_at BIGINT NOT NULL,
    revoked_at          BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX refresh_families_session ON refresh_families (session_id);
CREATE INDEX refresh_families_code ON refresh_families (code_hash);

CREATE TABLE refresh_tokens (
    hash       TEXT PRIMARY KEY,
    family_id  TEXT NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    rotated_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

CREATE TABLE signing_keys (
    id          TEXT PRIMARY KEY,
    algorithm   TEXT NOT NULL,
    private_key BYTEA NOT NULL,
    certificate BYTEA NOT NULL,
    state       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (state) WHERE state = 'current';

CREATE TABLE instance_secrets (
    name  TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);

CREATE TABLE login_failures (
    key TEXT NOT NULL,
    at  BIGINT NOT NULL
);
CREATE INDEX login_failures_key_at ON login_failures (key, at);
