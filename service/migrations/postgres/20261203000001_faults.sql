-- Injected faults, on PostgreSQL, live here so that every replica of the shop
-- applies them: a fault posted to any replica's admin API is a row, and every
-- change is announced on the channel `shop_faults`, on which each replica
-- reloads the active faults. Expiry is the database's clock, the same for all.
CREATE TABLE faults (
    id TEXT PRIMARY KEY,
    -- The fault spec as the admin API took it, in its JSON form.
    spec TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE FUNCTION notify_fault_change() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('shop_faults', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER faults_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON faults
    FOR EACH STATEMENT EXECUTE FUNCTION notify_fault_change();
