-- Apps that may use the device code and password grants without a credential (Entra's
-- "Allow public client flows"). Certificates (kind 'c', base64 DER) and granted application
-- permissions (kind 'a', "<appIdUri>/<role>") are rows of app_uris like secrets.
ALTER TABLE apps ADD COLUMN allow_public_client_flows BOOLEAN NOT NULL DEFAULT FALSE;
