-- E-mail conversations: staff replies go into the guest's thread with the same subject.
ALTER TABLE conversations
    ADD COLUMN email_thread_id text NOT NULL DEFAULT '',
    ADD COLUMN email_subject   text NOT NULL DEFAULT '';
