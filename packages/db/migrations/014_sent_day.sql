-- Issue 13: SENTBEFORE, SENTON and SENTSINCE compare the Date: header's calendar day in
-- the header's own zone (RFC 3501 §6.4.4: "disregarding time and timezone"), so
-- `Date: Sun, 25 Mar 2007 00:00:00 +0200` is sent on 25 March, though it is 24 March in UTC.
-- sent_date keeps the instant; the zone is read back from the header text kept in the
-- envelope: a numeric offset (RFC 5322 §3.3), else an obsolete US zone name (§4.3), else
-- none (UT, GMT, military letters, -0000 and no zone all count as UTC). Generated, so every
-- row has it (old ones at this migration, lazily described ones when their envelope is
-- written) and no writer can disagree with it.
ALTER TABLE mailbox_messages ADD COLUMN sent_day date GENERATED ALWAYS AS (
  (timezone('UTC', sent_date) + make_interval(mins =>
    CASE
      WHEN substring(envelope->>'date' from '([+-][0-9]{4})\s*(?:\([^()]*\)\s*)?$') IS NOT NULL THEN
        (CASE WHEN substring(envelope->>'date' from '([+-])[0-9]{4}\s*(?:\([^()]*\)\s*)?$') = '-' THEN -1 ELSE 1 END) *
        (substring(envelope->>'date' from '[+-]([0-9]{2})[0-9]{2}\s*(?:\([^()]*\)\s*)?$')::int * 60 +
         substring(envelope->>'date' from '[+-][0-9]{2}([0-9]{2})\s*(?:\([^()]*\)\s*)?$')::int)
      ELSE CASE upper(substring(envelope->>'date' from '([A-Za-z]+)\s*(?:\([^()]*\)\s*)?$'))
        WHEN 'EDT' THEN -240 WHEN 'EST' THEN -300 WHEN 'CDT' THEN -300 WHEN 'CST' THEN -360
        WHEN 'MDT' THEN -360 WHEN 'MST' THEN -420 WHEN 'PDT' THEN -420 WHEN 'PST' THEN -480
        ELSE 0 END
    END))::date
) STORED;
