-- Administrators may grant consent for the whole tenant (users[].admin in the bootstrap file).
ALTER TABLE users ADD COLUMN admin BOOLEAN NOT NULL DEFAULT FALSE;
