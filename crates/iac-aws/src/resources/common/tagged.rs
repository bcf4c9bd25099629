//! What a type's read by the stack's tag keeps for the plan's orphan check: everything of
//! the stack that describe saw, as [`Tagged`], so the plan's `list_tagged` that follows
//! takes it instead of describing again (one describe per type and plan).

use std::future::Future;

use iac_engine::provider::{Live, ProviderError, Tagged};
use serde_json::Value as Json;

use super::super::Cx;

/// Objects by id as [`Tagged`] (each named by its live `iac:name` tag), sorted by id.
pub fn tagged_of(found: impl IntoIterator<Item = (String, Live)>) -> Vec<Tagged> {
    let mut out: Vec<Tagged> = found
        .into_iter()
        .map(|(physical_id, live)| Tagged {
            name: live
                .inputs
                .pointer("/tags/iac:name")
                .and_then(Json::as_str)
                .map(str::to_owned),
            physical_id,
            live,
        })
        .collect();
    out.sort_by(|a, b| a.physical_id.cmp(&b.physical_id));
    out
}

/// Keeps what a read by the stack's tag found of the type `key` for [`tagged_or`].
pub fn keep_tagged(cx: &Cx, key: &'static str, tagged: Vec<Tagged>) {
    cx.tagged
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, tagged);
}

/// The `list_tagged` of a type read by the stack's tag: what the plan's read just kept
/// under `key` ([`keep_tagged`]), or else what `describe` (one describe by the stack's tag)
/// lists.
pub async fn tagged_or<F, Fut>(
    cx: &Cx,
    key: &'static str,
    describe: F,
) -> Result<Vec<Tagged>, ProviderError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Vec<Tagged>, ProviderError>>,
{
    let read = cx
        .tagged
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(key);
    match read {
        Some(tagged) => Ok(tagged),
        None => describe().await,
    }
}
