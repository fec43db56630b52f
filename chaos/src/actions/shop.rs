//! The shop's fault API (`/admin/faults` on its admin port).

use reqwest::StatusCode;
use serde_json::{json, Value};
use shop_contract::faults::{FaultCreated, FaultSpec};

use super::UndoState;
use crate::{experiment::targets, runner::Context, Error, Result};

fn token(ctx: &Context) -> &str {
    ctx.config(targets::ADMIN_TOKEN).unwrap_or_default()
}

/// `POST /admin/faults`; the undo deletes that fault.
pub(crate) async fn inject(ctx: &Context, action: &str, fault: &FaultSpec) -> Result<Value> {
    let admin = ctx.target(None, targets::ADMIN_URL)?;
    let response = ctx
        .http()
        .post(format!("{admin}/admin/faults"))
        .bearer_auth(token(ctx))
        .json(fault)
        .send()
        .await?;
    let status = response.status();
    if status != StatusCode::CREATED {
        let body = response.text().await.unwrap_or_default();
        return Err(Error::Api(format!(
            "the fault API answered {status}: {}",
            body.trim()
        )));
    }
    let created: FaultCreated = response.json().await?;
    ctx.remember(
        action,
        UndoState::ShopFault {
            admin_url: admin,
            id: created.id.clone(),
        },
    );
    Ok(json!({ "id": created.id, "fault": fault }))
}

/// `DELETE /admin/faults/{id}`; a fault that already expired is fine.
pub(crate) async fn remove(ctx: &Context, admin: &str, id: &str) -> Result<Value> {
    let response = ctx
        .http()
        .delete(format!("{admin}/admin/faults/{id}"))
        .bearer_auth(token(ctx))
        .send()
        .await?;
    match response.status() {
        s if s.is_success() => Ok(json!({ "cleared": id })),
        StatusCode::NOT_FOUND => Ok(json!({ "cleared": id, "note": "already gone" })),
        s => Err(Error::Api(format!(
            "clearing fault {id}: the fault API answered {s}"
        ))),
    }
}

/// `DELETE /admin/faults`: every fault, whoever injected it.
pub(crate) async fn clear_all(ctx: &Context) -> Result<Value> {
    let admin = ctx.target(None, targets::ADMIN_URL)?;
    let response = ctx
        .http()
        .delete(format!("{admin}/admin/faults"))
        .bearer_auth(token(ctx))
        .send()
        .await?;
    let status = response.status();
    if !status.is_success() {
        return Err(Error::Api(format!(
            "clearing every fault: the fault API answered {status}"
        )));
    }
    Ok(json!({ "cleared": "all", "status": status.as_u16() }))
}
