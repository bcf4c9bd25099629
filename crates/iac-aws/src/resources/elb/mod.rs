//! Elastic Load Balancing v2: the application load balancer, its target groups and its
//! listeners, plus what the three share (tag reads in batches, describe batches, names).

pub(crate) mod describe;
pub mod listener;
mod listener_certificates;
pub mod listener_rule;
pub mod load_balancer;
pub mod target_group;

use std::collections::HashMap;

use aws_sdk_elasticloadbalancingv2::types::Tag;
use iac_engine::provider::{ProviderError, ReadRequest};
use serde_json::Value as Json;

use super::common::{
    apply_tag_diff, aws_name_of, for_each_bounded, in_chunks, owned_str, tag_pairs,
    READ_CONCURRENCY,
};
use super::Cx;
use crate::Service;

/// DescribeTags takes at most 20 resource ARNs per call.
const TAG_BATCH: usize = 20;

/// ARNs per DescribeLoadBalancers or DescribeTargetGroups call: the most load balancers
/// take, and a small batch keeps the one-by-one fallback of
/// [`describe_in_batches`](super::common::describe_in_batches) cheap.
pub(crate) const DESCRIBE_BATCH: usize = 20;

/// The tags of every ARN in `arns`, in batches of 20. An ARN missing from the answer has no
/// entry (it was deleted between the describe and this call).
pub(crate) async fn read_tags(cx: &Cx, arns: &[String]) -> Result<TagsByArn, ProviderError> {
    in_chunks(arns, TAG_BATCH, |chunk| async move {
        let resp = cx
            .aws
            .clients()
            .elbv2
            .describe_tags()
            .set_resource_arns(Some(chunk))
            .send()
            .await
            .map_err(cx.err(Service::Elbv2, "DescribeTags"))?;
        Ok(resp
            .tag_descriptions()
            .iter()
            .filter_map(|desc| Some((desc.resource_arn()?.to_owned(), tag_pairs(desc.tags()))))
            .collect::<Vec<_>>())
    })
    .await
}

/// Applies the tag changes from `old` to `new` inputs to one ELB resource.
pub(crate) async fn update_tags(
    cx: &Cx,
    arn: &str,
    old: &Json,
    new: &Json,
) -> Result<(), ProviderError> {
    let elbv2 = &cx.aws.clients().elbv2;
    let remove = |keys| async move {
        elbv2
            .remove_tags()
            .resource_arns(arn)
            .set_tag_keys(Some(keys))
            .send()
            .await
            .map_err(cx.err(Service::Elbv2, "RemoveTags"))?;
        Ok(())
    };
    let add = |tags: Vec<Tag>| async move {
        elbv2
            .add_tags()
            .resource_arns(arn)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(cx.err(Service::Elbv2, "AddTags"))?;
        Ok(())
    };
    apply_tag_diff(old, new, remove, add).await
}

/// An integer input, with its default when omitted.
pub(crate) fn int_or(inputs: &Json, prop: &str, default: i64) -> i64 {
    inputs.get(prop).and_then(Json::as_i64).unwrap_or(default)
}

/// The AWS name of a load balancer or target group: the `name` input, which the engine
/// fills with `<stack>-<NAME>` (shortened to 32 characters) when the stack leaves it out.
pub(crate) fn aws_name(cx: &Cx, name: &str, inputs: &Json) -> String {
    aws_name_of(cx, name, inputs, 32)
}

/// Tags by ARN, as [`read_tags`] answers them.
pub(crate) type TagsByArn = HashMap<String, Vec<(String, String)>>;

/// The objects of `requests` that one listing per parent finds (a load balancer's
/// listeners, a listener's rules), by id, each with its parent, and their tags. The parent
/// is read from the id (`parent_of`), else from the last applied input `parent_key`; the
/// parents are listed concurrently, each once however many of its objects are asked for. A
/// parent that is gone (`list` answers `None`) finds nothing. The tags of what was found
/// follow in one `DescribeTags` per 20 objects.
pub(crate) async fn list_by_parent<T, F, Fut>(
    cx: &Cx,
    requests: &[ReadRequest],
    parent_of: fn(&str) -> Option<String>,
    parent_key: &str,
    list: F,
    id_of: fn(&T) -> Option<&str>,
) -> Result<(HashMap<String, (String, T)>, TagsByArn), ProviderError>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Result<Option<Vec<T>>, ProviderError>>,
{
    let mut parents: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for req in requests {
        let parent =
            parent_of(&req.physical_id).or_else(|| owned_str(&req.last_inputs, parent_key));
        if let Some(p) = parent.filter(|p| seen.insert(p.clone())) {
            parents.push(p);
        }
    }
    let listed = for_each_bounded(parents.clone(), READ_CONCURRENCY, list).await?;
    let mut found = HashMap::new();
    for (parent, objects) in parents.iter().zip(listed) {
        for object in objects.into_iter().flatten() {
            if let Some(id) = id_of(&object).map(str::to_owned) {
                found.insert(id, (parent.clone(), object));
            }
        }
    }
    let tags = read_tags(cx, &live_ids(requests, &found)).await?;
    Ok((found, tags))
}

/// The ids of `requests` that `found` holds, in the requests' order (whose tags to read).
pub(crate) fn live_ids<T>(requests: &[ReadRequest], found: &HashMap<String, T>) -> Vec<String> {
    requests
        .iter()
        .filter(|r| found.contains_key(&r.physical_id))
        .map(|r| r.physical_id.clone())
        .collect()
}
