//! The faults of the admin API, kept where every replica sees them. On
//! SQLite (one process) the fault store is all there is. On PostgreSQL a
//! fault is a row of `faults`; the table's trigger announces each change and
//! every replica's announcement listener reloads the active faults into its
//! store (`announcements`), so a fault posted to any replica applies on all
//! of them, and clearing it anywhere clears it everywhere. The replica that
//! answered applies a change at once, without waiting for the announcement.
//!
//! These queries are not subject to injected database faults: an injected
//! database outage must still be clearable.

use std::time::Duration;

use sqlx::Row;

use super::{Backend, Database, Result};
use crate::contract::faults::{ActiveFault, FaultSpec};

impl Database {
    /// Adds a validated fault on every replica and returns its id.
    pub async fn add_fault(&self, spec: FaultSpec) -> Result<String> {
        let Backend::Postgres(pool) = &self.backend else {
            return Ok(self.faults.add(spec));
        };
        let id = uuid::Uuid::new_v4().simple().to_string();
        let json = serde_json::to_string(&spec).expect("a fault spec serialises");
        const SQL: &str = "WITH expired AS (DELETE FROM faults WHERE expires_at <= now()) \
             INSERT INTO faults (id, spec, expires_at) \
             VALUES ($1, $2, now() + make_interval(secs => $3))";
        self.observe_uninjected("insert_fault", async {
            sqlx::query(SQL)
                .bind(&id)
                .bind(&json)
                .bind(spec.duration_seconds as f64)
                .execute(pool)
                .await
        })
        .await?;
        let lifetime = Duration::from_secs(spec.duration_seconds);
        self.faults.insert(id.clone(), spec, lifetime);
        Ok(id)
    }

    /// The faults active on every replica.
    pub async fn active_faults(&self) -> Result<Vec<ActiveFault>> {
        let Backend::Postgres(_) = &self.backend else {
            return Ok(self.faults.list());
        };
        Ok(self
            .stored_faults()
            .await?
            .into_iter()
            .map(|(id, spec, lifetime)| ActiveFault {
                id,
                spec,
                expires_in_seconds: lifetime.as_secs_f64().ceil() as u64,
            })
            .collect())
    }

    /// Clears one fault everywhere; false if there was no such active fault.
    pub async fn remove_fault(&self, id: &str) -> Result<bool> {
        let Backend::Postgres(pool) = &self.backend else {
            return Ok(self.faults.remove(id));
        };
        const SQL: &str = "DELETE FROM faults WHERE id = $1 AND expires_at > now()";
        let deleted = self
            .observe_uninjected("delete_fault", async {
                sqlx::query(SQL).bind(id).execute(pool).await
            })
            .await?
            .rows_affected();
        self.faults.remove(id);
        Ok(deleted > 0)
    }

    /// Clears every fault everywhere.
    pub async fn clear_faults(&self) -> Result<()> {
        let Backend::Postgres(pool) = &self.backend else {
            self.faults.clear();
            return Ok(());
        };
        self.observe_uninjected("delete_faults", async {
            sqlx::query("DELETE FROM faults").execute(pool).await
        })
        .await?;
        self.faults.clear();
        Ok(())
    }

    /// Makes this replica's fault store mirror the stored faults; on an
    /// error the store keeps what it had, and the next announcement or
    /// reconnection tries again.
    pub(super) async fn reload_faults(&self) {
        match self.stored_faults().await {
            Ok(faults) => self.faults.replace(faults),
            Err(error) => tracing::warn!(%error, "could not reload the injected faults"),
        }
    }

    /// The active stored faults with what is left of their lifetimes, by the
    /// database's clock.
    async fn stored_faults(&self) -> Result<Vec<(String, FaultSpec, Duration)>> {
        let Backend::Postgres(pool) = &self.backend else {
            return Ok(Vec::new());
        };
        const SQL: &str = "SELECT id, spec, \
             EXTRACT(EPOCH FROM expires_at - now())::float8 AS remaining \
             FROM faults WHERE expires_at > now() ORDER BY expires_at, id";
        let rows = self
            .observe_uninjected("get_faults", async {
                sqlx::query(SQL).fetch_all(pool).await
            })
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let id: String = row.get("id");
                let spec: String = row.get("spec");
                let remaining: f64 = row.get("remaining");
                match serde_json::from_str::<FaultSpec>(&spec) {
                    Ok(spec) => Some((id, spec, Duration::from_secs_f64(remaining.max(0.0)))),
                    Err(error) => {
                        tracing::warn!(%id, %error, "ignoring a stored fault this shop cannot read");
                        None
                    }
                }
            })
            .collect())
    }
}
