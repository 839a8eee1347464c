-- The district (GB/T 2260 code, six digits) each row belongs to, leading every key of the
-- tables a province distributes on Citus (docs/scale-out.md): layers, grids and publishes;
-- cases, their events, the ticket counter and the contact-read log; audits and their results.
-- Reference data, accounts, sessions and API keys stay without it (reference tables).
--
-- New rows take the district of the connection, `tessera.district`, which tessera sets on
-- every connection it opens (`--district`, default 370303); a connection without it cannot
-- insert into these tables. Rows already stored take the district of the migrating process.

-- Foreign keys first (they depend on the keys being replaced).
ALTER TABLE grid DROP CONSTRAINT grid_layer_id_fkey;
ALTER TABLE publish_event DROP CONSTRAINT publish_event_layer_id_fkey;
ALTER TABLE case_event DROP CONSTRAINT case_event_case_id_fkey;
ALTER TABLE contact_read DROP CONSTRAINT contact_read_case_id_fkey;
ALTER TABLE audit_result DROP CONSTRAINT audit_result_audit_id_fkey;

ALTER TABLE layer ADD COLUMN district TEXT NOT NULL DEFAULT current_setting('tessera.district')
    CHECK (district ~ '^[0-9]{6}$');
ALTER TABLE layer DROP CONSTRAINT layer_pkey, ADD PRIMARY KEY (district, id);

ALTER TABLE grid ADD COLUMN district TEXT NOT NULL DEFAULT current_setting('tessera.district');
ALTER TABLE grid DROP CONSTRAINT grid_pkey, ADD PRIMARY KEY (district, layer_id, key);
ALTER TABLE grid ADD FOREIGN KEY (district, layer_id) REFERENCES layer (district, id);

ALTER TABLE publish_event ADD COLUMN district TEXT NOT NULL
    DEFAULT current_setting('tessera.district');
ALTER TABLE publish_event DROP CONSTRAINT publish_event_pkey, ADD PRIMARY KEY (district, id);
ALTER TABLE publish_event ADD FOREIGN KEY (district, layer_id) REFERENCES layer (district, id);

ALTER TABLE case_record ADD COLUMN district TEXT NOT NULL
    DEFAULT current_setting('tessera.district') CHECK (district ~ '^[0-9]{6}$');
ALTER TABLE case_record
    DROP CONSTRAINT case_record_pkey,
    DROP CONSTRAINT case_record_ticket_key,
    DROP CONSTRAINT case_record_tracking_token_key,
    DROP CONSTRAINT case_record_idempotency_key_key,
    ADD PRIMARY KEY (district, id),
    ADD UNIQUE (district, ticket),
    ADD UNIQUE (district, tracking_token),
    ADD UNIQUE (district, idempotency_key);

ALTER TABLE case_event ADD COLUMN district TEXT NOT NULL
    DEFAULT current_setting('tessera.district');
ALTER TABLE case_event DROP CONSTRAINT case_event_pkey, ADD PRIMARY KEY (district, case_id, seq);
ALTER TABLE case_event ADD FOREIGN KEY (district, case_id) REFERENCES case_record (district, id);

ALTER TABLE contact_read ADD COLUMN district TEXT NOT NULL
    DEFAULT current_setting('tessera.district');
ALTER TABLE contact_read DROP CONSTRAINT contact_read_pkey, ADD PRIMARY KEY (district, id);
ALTER TABLE contact_read ADD FOREIGN KEY (district, case_id)
    REFERENCES case_record (district, id);

ALTER TABLE ticket_counter ADD COLUMN district TEXT NOT NULL
    DEFAULT current_setting('tessera.district');
ALTER TABLE ticket_counter DROP CONSTRAINT ticket_counter_pkey, ADD PRIMARY KEY (district, day);

ALTER TABLE audit ADD COLUMN district TEXT NOT NULL DEFAULT current_setting('tessera.district');
ALTER TABLE audit DROP CONSTRAINT audit_pkey, ADD PRIMARY KEY (district, id);

ALTER TABLE audit_result ADD COLUMN district TEXT NOT NULL
    DEFAULT current_setting('tessera.district');
ALTER TABLE audit_result ADD FOREIGN KEY (district, audit_id) REFERENCES audit (district, id);
