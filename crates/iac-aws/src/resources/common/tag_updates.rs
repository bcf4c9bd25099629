//! The one shape of an in-place tag update, for the services whose tags are changed by a
//! remove call and an add call (ECS's `UntagResource`/`TagResource`, ELB's
//! `RemoveTags`/`AddTags`, IAM's, ECR's, ACM's, EC2's, ...): each caller only says how to
//! send the two. (Route 53 changes both in one `ChangeTagsForResource`, so it takes the
//! [`TagDiff`] whole.)

use std::future::Future;

use iac_engine::provider::ProviderError;
use serde_json::Value as Json;

use super::tags::{sdk_tags, SdkTag, TagDiff};

/// Applies the tag changes from `old` to `new` inputs to one object: `remove` with the keys
/// no longer wanted, then `add` with the new and changed tags as the service's `Tag`s, each
/// sent only when it has something to do (so at most one call of each).
pub async fn apply_tag_diff<T, R, RFut, A, AFut>(
    old: &Json,
    new: &Json,
    remove: R,
    add: A,
) -> Result<(), ProviderError>
where
    T: SdkTag,
    R: FnOnce(Vec<String>) -> RFut,
    RFut: Future<Output = Result<(), ProviderError>>,
    A: FnOnce(Vec<T>) -> AFut,
    AFut: Future<Output = Result<(), ProviderError>>,
{
    apply_tag_pairs(old, new, remove, |pairs| async move {
        add(sdk_tags::<T>(&pairs)?).await
    })
    .await
}

/// [`apply_tag_diff`] for a service that takes the tags to add as key/value pairs rather
/// than as its `Tag` type (CloudWatch Logs' map, Auto Scaling's tags naming their group).
pub async fn apply_tag_pairs<R, RFut, A, AFut>(
    old: &Json,
    new: &Json,
    remove: R,
    add: A,
) -> Result<(), ProviderError>
where
    R: FnOnce(Vec<String>) -> RFut,
    RFut: Future<Output = Result<(), ProviderError>>,
    A: FnOnce(Vec<(String, String)>) -> AFut,
    AFut: Future<Output = Result<(), ProviderError>>,
{
    let diff = TagDiff::between(old, new);
    if !diff.remove.is_empty() {
        remove(diff.remove).await?;
    }
    if !diff.add.is_empty() {
        add(diff.add).await?;
    }
    Ok(())
}
