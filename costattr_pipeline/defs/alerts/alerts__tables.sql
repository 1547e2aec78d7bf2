CREATE SCHEMA IF NOT EXISTS metering;

-- One row per alert and channel. alert_id is deterministic (the same breach gives the same id),
-- so recording a breach twice changes nothing and a channel never gets it twice once sent.
CREATE TABLE IF NOT EXISTS metering.alerts (
    alert_id        VARCHAR NOT NULL,     -- UUID5 of (check_name, subject_date): the same breach always gets the same id
    check_name      VARCHAR NOT NULL,     -- the asset check whose breach this is, e.g. unattributed_share_within_threshold
    subject_date    DATE NOT NULL,        -- UTC day the breach is about (the partition whose figure broke the threshold)
    payload         VARCHAR NOT NULL,     -- JSON text
    sent_to         VARCHAR NOT NULL,     -- channel: log, eventbridge, slack
    status          VARCHAR NOT NULL,     -- pending, sent
    attempts        INTEGER NOT NULL,     -- deliveries tried on this channel so far (0 before the first)
    last_error      VARCHAR,              -- the channel's error of the last failed attempt (first 1000 characters); NULL: none
    created_at      TIMESTAMP NOT NULL,   -- UTC time the breach was recorded
    sent_at         TIMESTAMP,            -- UTC time the channel accepted it; NULL: not yet sent
    next_attempt_at TIMESTAMP             -- UTC time of the next delivery attempt (backing off after failures); NULL: sent
);
