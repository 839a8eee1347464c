-- Who owns each case, as a key (worker id, department code, or 'district' for the service
-- center's queue), so lists filter by department or assignee through an index.
ALTER TABLE case_record ADD COLUMN assignee TEXT;
UPDATE case_record SET assignee = COALESCE(
    facts -> 'assignee' ->> 'id',
    facts -> 'assignee' ->> 'code',
    'district');
CREATE INDEX case_record_assignee ON case_record (assignee);
