//! Products kept in memory between requests, so that a product page costs
//! no database round trip.
//!
//! The cache is never the only copy of the truth, and never hides the
//! database's state:
//! - **Invalidated on every change.** The shop evicts the products an order
//!   or a stock update touched as soon as it commits. On PostgreSQL a trigger
//!   also announces every change to `products` (`NOTIFY shop_products`), so
//!   that every replica evicts what another replica, or an operator with
//!   `psql`, changed.
//! - **Trusted only while the database answers.** An entry is served only
//!   while the invalidation channel is up (PostgreSQL: the `LISTEN`
//!   connection) and the last database operation did not fail for
//!   unavailability. In an outage the cache empties and product pages fail
//!   with the rest of the shop, so the outage shows in the SLOs and no page
//!   shows stock another replica sold meanwhile.
//! - **Short-lived.** An entry older than [`MAX_AGE`] is read again, which
//!   bounds the staleness of a change no channel reported (a notification
//!   lost with a half-open connection, a second process writing to the
//!   SQLite file) to `MAX_AGE` + [`REFRESH_GRACE`].
//!
//! An expired entry is read again by one request, not by every request
//! that meets it: the first claims the refresh and queries, and the others
//! are served the entry meanwhile, for at most [`REFRESH_GRACE`]. Without
//! that, a popular page's expiry sent every open connection to the
//! database at once, more queries than the pool has connections; when the
//! database was slow at that moment (a lock, a checkpoint), those beyond
//! the pool failed with 503 after the pool's acquire timeout. A refresh
//! that fails for unavailability empties the cache as any failure does,
//! so an outage still shows on product pages at once.
//!
//! A read that raced with a change must not put the old row back: each fill
//! carries a [`Ticket`] taken before its query, and is dropped if the
//! product was invalidated, or the cache cleared, after the ticket.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, Ordering},
        RwLock,
    },
    time::{Duration, Instant},
};

use super::Product;

/// The age at which an entry is read again.
pub(super) const MAX_AGE: Duration = Duration::from_secs(5);

/// How long past [`MAX_AGE`] an entry is served while one request reads
/// it again. A refresh that has not filled by then (its query failed for
/// another reason than unavailability, or its request was cancelled) no
/// longer holds anyone back: every request reads for itself.
pub(super) const REFRESH_GRACE: Duration = Duration::from_secs(5);

/// How a product is looked up.
#[derive(Debug, Clone, Copy)]
pub(super) enum Key<'a> {
    Slug(&'a str),
    Id(i64),
}

/// What the cache answered.
#[derive(Debug, PartialEq)]
pub(super) enum Lookup {
    Hit(Product),
    /// Not cached, or too old: the caller reads the product and fills it.
    /// For an expired entry, only one caller is told so; see the module's
    /// documentation.
    Miss,
    /// The cache is not trusted now: its invalidation channel is down or
    /// the database is failing.
    Untrusted,
}

/// The cache's generation when a query started; see [`ProductCache::fill`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Ticket(u64);

pub(super) struct ProductCache {
    inner: RwLock<Inner>,
    /// The invalidation channel is up: always on SQLite, where every write
    /// goes through this process; on PostgreSQL while `LISTEN` is connected.
    channel_up: AtomicBool,
    /// The last database operation did not fail for unavailability.
    answering: AtomicBool,
}

#[derive(Default)]
struct Inner {
    /// Bumped by every invalidation and clear.
    generation: u64,
    /// The generation of the last clear: older tickets fill nothing.
    cleared: u64,
    /// The generation at which each product was last invalidated.
    invalidated: HashMap<i64, u64>,
    products: HashMap<i64, Entry>,
    ids_by_slug: HashMap<String, i64>,
}

struct Entry {
    product: Product,
    filled: Instant,
    /// A request is reading this expired entry again.
    refreshing: AtomicBool,
}

impl Entry {
    fn lookup(&self) -> Lookup {
        let age = self.filled.elapsed();
        let served =
            age < MAX_AGE || (age < MAX_AGE + REFRESH_GRACE && self.refresh_claimed_already());
        if served {
            Lookup::Hit(self.product.clone())
        } else {
            Lookup::Miss
        }
    }

    /// Whether another request is reading this entry again; if none is,
    /// the caller now is. Only the first caller writes the flag, so the
    /// others only read a shared cache line.
    fn refresh_claimed_already(&self) -> bool {
        self.refreshing.load(Ordering::Acquire) || self.refreshing.swap(true, Ordering::AcqRel)
    }
}

impl ProductCache {
    /// A cache whose invalidation channel is up from the start (SQLite) or
    /// only once a listener reports it (PostgreSQL).
    pub(super) fn new(channel_up: bool) -> Self {
        ProductCache {
            inner: RwLock::default(),
            channel_up: AtomicBool::new(channel_up),
            answering: AtomicBool::new(true),
        }
    }

    fn trusted(&self) -> bool {
        self.channel_up.load(Ordering::Acquire) && self.answering.load(Ordering::Acquire)
    }

    /// How the cache answers for the product with this key.
    pub(super) fn get(&self, key: Key<'_>) -> Lookup {
        if !self.trusted() {
            return Lookup::Untrusted;
        }
        let inner = self.read();
        let id = match key {
            Key::Id(id) => Some(id),
            Key::Slug(slug) => inner.ids_by_slug.get(slug).copied(),
        };
        match id.and_then(|id| inner.products.get(&id)) {
            Some(entry) => entry.lookup(),
            None => Lookup::Miss,
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Taken before the query whose result will be [`fill`](Self::fill)ed.
    pub(super) fn ticket(&self) -> Ticket {
        Ticket(self.read().generation)
    }

    /// Caches `product` as read by a query that started at `ticket`, unless
    /// it changed since or the cache is not trusted.
    pub(super) fn fill(&self, ticket: Ticket, product: &Product) {
        if !self.trusted() {
            return;
        }
        let mut inner = self.write();
        let changed_since = inner.cleared > ticket.0
            || inner
                .invalidated
                .get(&product.id)
                .is_some_and(|&at| at > ticket.0);
        if changed_since {
            return;
        }
        inner.ids_by_slug.insert(product.slug.clone(), product.id);
        inner.products.insert(
            product.id,
            Entry {
                product: product.clone(),
                filled: Instant::now(),
                refreshing: AtomicBool::new(false),
            },
        );
    }

    /// Evicts these products: they changed, or may have.
    pub(super) fn invalidate(&self, ids: impl IntoIterator<Item = i64>) {
        let mut inner = self.write();
        inner.generation += 1;
        let generation = inner.generation;
        for id in ids {
            inner.products.remove(&id);
            inner.invalidated.insert(id, generation);
        }
    }

    /// Evicts every product: a change of unknown extent, or a gap in the
    /// invalidation channel.
    pub(super) fn clear(&self) {
        let mut inner = self.write();
        inner.generation += 1;
        inner.cleared = inner.generation;
        inner.products.clear();
        inner.ids_by_slug.clear();
        inner.invalidated.clear();
    }

    /// Records whether the invalidation channel is up; a change either way
    /// empties the cache (what it missed while down is unknown).
    pub(super) fn set_channel_up(&self, up: bool) {
        flip(&self.channel_up, up, || self.clear());
    }

    /// Records whether the database answered the last operation.
    pub(super) fn set_answering(&self, answering: bool) {
        flip(&self.answering, answering, || self.clear());
    }
}

/// Sets `flag`, calling `changed` if that changed it. Every database
/// operation reports here, so the common case is a read, not a write.
fn flip(flag: &AtomicBool, value: bool, changed: impl FnOnce()) {
    if flag.load(Ordering::Acquire) != value && flag.swap(value, Ordering::AcqRel) != value {
        changed();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn knife(stock: i64) -> Product {
        Product {
            id: 1,
            slug: "chefs-knife".into(),
            name: "Chef's knife".into(),
            description: String::new(),
            category: "kitchen".into(),
            category_name: "Kitchen".into(),
            price_cents: 4900,
            currency: "EUR",
            stock,
        }
    }

    impl ProductCache {
        fn by_slug(&self, slug: &str) -> Option<Product> {
            self.get(Key::Slug(slug)).hit()
        }

        fn by_id(&self, id: i64) -> Option<Product> {
            self.get(Key::Id(id)).hit()
        }
    }

    impl Lookup {
        fn hit(self) -> Option<Product> {
            match self {
                Lookup::Hit(product) => Some(product),
                _ => None,
            }
        }
    }

    impl ProductCache {
        /// Makes every entry as old as if it had been filled `ago`.
        fn age(&self, ago: Duration) {
            for entry in self.write().products.values_mut() {
                entry.filled -= ago;
            }
        }
    }

    fn filled() -> ProductCache {
        let cache = ProductCache::new(true);
        cache.fill(cache.ticket(), &knife(10));
        cache
    }

    #[test]
    fn a_filled_product_is_found_by_slug_and_by_id() {
        let cache = filled();
        assert_eq!(cache.by_slug("chefs-knife").map(|p| p.stock), Some(10));
        assert_eq!(cache.by_id(1).map(|p| p.stock), Some(10));
        assert_eq!(cache.by_slug("teapot"), None);
    }

    #[test]
    fn an_expired_product_is_read_again_by_one_request_while_the_others_are_served_it() {
        let cache = filled();
        cache.age(MAX_AGE);
        assert_eq!(cache.get(Key::Slug("chefs-knife")), Lookup::Miss);
        assert_eq!(cache.by_slug("chefs-knife").map(|p| p.stock), Some(10));
        assert_eq!(cache.by_id(1).map(|p| p.stock), Some(10));

        // The refresh fills a fresh entry, which expires in its turn.
        cache.fill(cache.ticket(), &knife(9));
        assert_eq!(cache.by_id(1).map(|p| p.stock), Some(9));
        cache.age(MAX_AGE);
        assert_eq!(cache.get(Key::Id(1)), Lookup::Miss);
        assert!(cache.by_id(1).is_some());
    }

    #[test]
    fn a_refresh_that_never_fills_holds_no_one_back_past_the_grace() {
        let cache = filled();
        cache.age(MAX_AGE);
        assert_eq!(cache.get(Key::Id(1)), Lookup::Miss);
        cache.age(REFRESH_GRACE);
        assert_eq!(cache.get(Key::Id(1)), Lookup::Miss);
        assert_eq!(cache.get(Key::Slug("chefs-knife")), Lookup::Miss);
    }

    #[test]
    fn an_expired_product_being_read_again_is_still_evicted_by_a_change() {
        let cache = filled();
        cache.age(MAX_AGE);
        let ticket = cache.ticket();
        assert_eq!(cache.get(Key::Id(1)), Lookup::Miss);
        cache.invalidate([1]);
        cache.fill(ticket, &knife(10));
        assert_eq!(cache.get(Key::Id(1)), Lookup::Miss);
        assert_eq!(cache.get(Key::Id(1)), Lookup::Miss);
    }

    #[test]
    fn an_invalidated_product_is_read_again() {
        let cache = filled();
        cache.invalidate([1]);
        assert_eq!(cache.by_slug("chefs-knife"), None);
    }

    #[test]
    fn a_read_that_raced_with_a_change_does_not_put_the_old_row_back() {
        let cache = ProductCache::new(true);
        let ticket = cache.ticket();
        cache.invalidate([1]);
        cache.fill(ticket, &knife(10));
        assert_eq!(cache.by_id(1), None);
        // A read that started after the change fills.
        cache.fill(cache.ticket(), &knife(9));
        assert_eq!(cache.by_id(1).map(|p| p.stock), Some(9));
    }

    #[test]
    fn a_change_to_another_product_does_not_block_a_fill() {
        let cache = ProductCache::new(true);
        let ticket = cache.ticket();
        cache.invalidate([2]);
        cache.fill(ticket, &knife(10));
        assert!(cache.by_id(1).is_some());
    }

    #[test]
    fn a_read_that_raced_with_a_clear_does_not_fill() {
        let cache = ProductCache::new(true);
        let ticket = cache.ticket();
        cache.clear();
        cache.fill(ticket, &knife(10));
        assert_eq!(cache.by_id(1), None);
    }

    #[test]
    fn nothing_is_served_while_the_database_is_not_answering() {
        let cache = filled();
        cache.set_answering(false);
        assert_eq!(cache.get(Key::Slug("chefs-knife")), Lookup::Untrusted);
        cache.fill(cache.ticket(), &knife(10));
        cache.set_answering(true);
        // What was cached before the outage is gone, not served again.
        assert_eq!(cache.by_slug("chefs-knife"), None);
    }

    #[test]
    fn nothing_is_cached_until_the_invalidation_channel_is_up() {
        let cache = ProductCache::new(false);
        cache.fill(cache.ticket(), &knife(10));
        assert_eq!(cache.by_id(1), None);
        cache.set_channel_up(true);
        cache.fill(cache.ticket(), &knife(10));
        assert!(cache.by_id(1).is_some());
        cache.set_channel_up(false);
        assert_eq!(cache.by_id(1), None);
    }
}
