-- An account an admin disabled: it no longer signs in, and its sessions were ended. Accounts
-- are never deleted, so who did what stays readable.
ALTER TABLE account ADD COLUMN disabled_at INTEGER;
