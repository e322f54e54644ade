-- The claims parameter of the authorization request, kept with what it issued, so that code
-- redemption and every refresh apply it as the authorization did.
ALTER TABLE auth_codes ADD COLUMN claims TEXT NOT NULL DEFAULT '';
ALTER TABLE refresh_families ADD COLUMN claims TEXT NOT NULL DEFAULT '';
