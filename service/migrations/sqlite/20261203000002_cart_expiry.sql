-- Carts expire after SHOP_CART_TTL_HOURS idle: touched_at is the last change
-- to the cart (creation or any change to its lines), kept by triggers so that
-- no query of the shop has to remember it, and indexed for the sweep.
ALTER TABLE carts ADD COLUMN touched_at BIGINT NOT NULL DEFAULT 0;
UPDATE carts SET touched_at = created_at;
CREATE INDEX carts_touched_at ON carts (touched_at);

CREATE TRIGGER cart_items_insert_touches_cart AFTER INSERT ON cart_items
BEGIN
    UPDATE carts SET touched_at = CAST(strftime('%s', 'now') AS INTEGER) WHERE id = NEW.cart_id;
END;

CREATE TRIGGER cart_items_update_touches_cart AFTER UPDATE ON cart_items
BEGIN
    UPDATE carts SET touched_at = CAST(strftime('%s', 'now') AS INTEGER) WHERE id = NEW.cart_id;
END;

CREATE TRIGGER cart_items_delete_touches_cart AFTER DELETE ON cart_items
BEGIN
    UPDATE carts SET touched_at = CAST(strftime('%s', 'now') AS INTEGER) WHERE id = OLD.cart_id;
END;
