-- App roles of APIs, their assignment to users, security groups and their members, and the
-- two settings that go with them: an API's own app registration (client id) and which groups
-- an app's tokens carry.
ALTER TABLE apis ADD COLUMN client_id TEXT NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN group_claims TEXT NOT NULL DEFAULT '';

CREATE TABLE api_app_roles (
    tenant_id            TEXT NOT NULL,
    app_id_uri_key       TEXT NOT NULL,
    value                TEXT NOT NULL,
    allowed_member_types TEXT NOT NULL, -- space-separated: User, Application
    description          TEXT NOT NULL,
    position             INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, app_id_uri_key, value),
    FOREIGN KEY (tenant_id, app_id_uri_key) REFERENCES apis (tenant_id, app_id_uri_key) ON DELETE CASCADE
);

-- A user's app roles. No foreign key to api_app_roles: an API's roles are replaced on every
-- upsert, which must not drop assignments; reads join the roles the API still defines.
CREATE TABLE user_app_roles (
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id      TEXT NOT NULL,
    app_id_uri_key TEXT NOT NULL,
    value          TEXT NOT NULL, -- as the API defines it
    PRIMARY KEY (user_id, tenant_id, app_id_uri_key, value)
);

CREATE TABLE security_groups (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES security_groups (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);
