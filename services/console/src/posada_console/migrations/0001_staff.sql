-- Staff accounts of the console, in its own schema (conversation owns `public`).
CREATE TABLE console.staff (
    staff_id            text PRIMARY KEY,          -- the login name
    display_name        text NOT NULL,
    hotel_id            text NOT NULL,
    role                text NOT NULL CHECK (role IN ('agent', 'manager')),
    -- argon2id hash (argon2-cffi's encoded form); empty = no password login (OIDC only)
    password_hash       text NOT NULL DEFAULT '',
    -- "issuer|subject" of the OIDC identity linked to this account, if any
    oidc_identity       text UNIQUE,
    active              boolean NOT NULL DEFAULT true,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_hotel_idx ON console.staff (hotel_id);
