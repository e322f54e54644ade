-- Back-channel logout tokens to deliver: a durable outbox, claimed by one node at a time.
CREATE TABLE backchannel_outbox (
    id            TEXT PRIMARY KEY,
    client_id     TEXT NOT NULL,
    url           TEXT NOT NULL,
    logout_token  TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    due_at        BIGINT NOT NULL,
    claimed_until BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);
CREATE INDEX backchannel_outbox_due ON backchannel_outbox (due_at);
