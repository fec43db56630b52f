use std::time::Duration;

/// What can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// No connection could be had, or it broke: the database is down or
    /// unreachable. Answered 503.
    #[error("the database is unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// The operation took longer than the query timeout. Answered 503.
    #[error("the database did not answer within {0:?}")]
    TimedOut(Duration),
    /// The database answered with an error: a bug or a broken invariant.
    #[error("database query failed")]
    Query(#[source] sqlx::Error),
}

impl StorageError {
    /// Whether retrying later could succeed (the database is down or slow),
    /// as opposed to a query that is wrong.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StorageError::Unavailable(_) | StorageError::TimedOut(_)
        )
    }
}

impl From<sqlx::Error> for StorageError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => StorageError::Unavailable(error),
            // PostgreSQL refusing new sessions or shutting down (class 57, 08).
            sqlx::Error::Database(ref db)
                if db
                    .code()
                    .is_some_and(|c| c.starts_with("57") || c.starts_with("08")) =>
            {
                StorageError::Unavailable(error)
            }
            other => StorageError::Query(other),
        }
    }
}
