-- Carts expire after SHOP_CART_TTL_HOURS idle: touched_at is the last change
-- to the cart (creation or any change to its lines), kept by a trigger so that
-- no query of the shop has to remember it, and indexed for the sweep.
ALTER TABLE carts ADD COLUMN touched_at BIGINT NOT NULL DEFAULT 0;
UPDATE carts SET touched_at = created_at;
CREATE INDEX carts_touched_at ON carts (touched_at);

CREATE FUNCTION touch_cart() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE carts SET touched_at = extract(epoch FROM now())::bigint
     WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.cart_id ELSE NEW.cart_id END;
    RETURN NULL;
END
$$;

CREATE TRIGGER cart_items_touch_cart
    AFTER INSERT OR UPDATE OR DELETE ON cart_items
    FOR EACH ROW EXECUTE FUNCTION touch_cart();
