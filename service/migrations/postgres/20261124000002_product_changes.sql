-- Every change to a product is announced on the channel `shop_products`, with
-- the product's id as payload, so that each replica of the shop evicts it
-- from its product cache: changes made by another replica and by operators
-- alike. PostgreSQL delivers the notification when the transaction commits,
-- and not at all if it rolls back.
CREATE FUNCTION notify_product_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('shop_products', OLD.id::text);
    ELSE
        PERFORM pg_notify('shop_products', NEW.id::text);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER products_changed
    AFTER INSERT OR UPDATE OR DELETE ON products
    FOR EACH ROW EXECUTE FUNCTION notify_product_change();
