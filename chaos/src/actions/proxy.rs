//! Network faults through a Toxiproxy-compatible API.

use serde_json::{json, Value};

use super::UndoState;
use crate::{
    experiment::{targets, ProxyApi, ProxyName, ProxyToxic},
    runner::Context,
    toxiproxy::Toxiproxy,
    Result,
};

fn client(ctx: &Context, api: Option<&str>) -> Result<(String, Toxiproxy)> {
    let api = ctx.target(api, targets::PROXY_API)?;
    Ok((api.clone(), Toxiproxy::with_client(api, ctx.http().clone())))
}

/// Adds a toxic; the undo removes it.
pub(crate) async fn add_toxic(ctx: &Context, action: &str, toxic: &ProxyToxic) -> Result<Value> {
    let (api, client) = client(ctx, toxic.api.as_deref())?;
    let added = client.add_toxic(&toxic.proxy, &toxic.to_toxic()).await?;
    ctx.remember(
        action,
        UndoState::Toxic {
            api,
            proxy: toxic.proxy.clone(),
            name: added.name.clone(),
        },
    );
    Ok(json!({ "proxy": toxic.proxy, "toxic": added }))
}

pub(crate) async fn remove_toxic(
    ctx: &Context,
    api: &str,
    proxy: &str,
    name: &str,
) -> Result<Value> {
    let client = Toxiproxy::with_client(api, ctx.http().clone());
    let removed = client.remove_toxic(proxy, name).await?;
    Ok(json!({ "proxy": proxy, "removed": name, "was_there": removed }))
}

/// Takes a proxy down or up; the undo restores what it was.
pub(crate) async fn set_enabled(
    ctx: &Context,
    action: &str,
    target: &ProxyName,
    enabled: bool,
) -> Result<Value> {
    let (api, client) = client(ctx, target.api.as_deref())?;
    let before = client.proxy(&target.proxy).await?;
    let after = client.set_enabled(&target.proxy, enabled).await?;
    ctx.remember(
        action,
        UndoState::ProxyEnabled {
            api,
            proxy: target.proxy.clone(),
            enabled: before.enabled,
        },
    );
    Ok(
        json!({ "proxy": after.name, "listen": after.listen, "enabled": after.enabled, "was_enabled": before.enabled }),
    )
}

pub(crate) async fn restore_enabled(
    ctx: &Context,
    api: &str,
    proxy: &str,
    enabled: bool,
) -> Result<Value> {
    let client = Toxiproxy::with_client(api, ctx.http().clone());
    let after = client.set_enabled(proxy, enabled).await?;
    Ok(json!({ "proxy": proxy, "enabled": after.enabled }))
}

pub(crate) async fn reset(ctx: &Context, target: &ProxyApi) -> Result<Value> {
    let (api, client) = client(ctx, target.api.as_deref())?;
    client.reset().await?;
    Ok(json!({ "reset": api }))
}
