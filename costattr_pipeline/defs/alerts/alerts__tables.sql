CREATE SCHEMA IF NOT EXISTS metering;

-- One row per alert and channel. alert_id is deterministic (the same breach gives the same id),
-- so recording a breach twice changes nothing and a channel never gets it twice once sent.
CREATE TABLE IF NOT EXISTS metering.alerts (
    alert_id        VARCHAR NOT NULL,
    check_name      VARCHAR NOT NULL,
    subject_date    DATE NOT NULL,
    payload         VARCHAR NOT NULL,     -- JSON text
    sent_to         VARCHAR NOT NULL,     -- channel: log, eventbridge, slack
    status          VARCHAR NOT NULL,     -- pending, sent
    attempts        INTEGER NOT NULL,
    last_error      VARCHAR,
    created_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP,
    next_attempt_at TIMESTAMP
);
