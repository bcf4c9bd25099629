//! `aws.log_group`: a CloudWatch Logs group, e.g. for container output.
//!
//! The physical id is the group name. `retention_days` changes in place
//! (`PutRetentionPolicy`, or `DeleteRetentionPolicy` to keep events forever); tags too.
//! Deleting the group deletes its events with it, which the plan says.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::types::LogGroup as SdkLogGroup;
use iac_engine::provider::{
    Created, ErrorKind, Existing, Found, Imported, Live, OpContext, ProviderError, ReadRequest,
};
use serde_json::{json, Map, Value as Json};

use super::common::{
    apply_tag_pairs, find_by_name, for_each_bounded, gone, input_tags, paged, poll_until, req_str,
    tags_json, taken_as_conflict, Backoff, READ_CONCURRENCY,
};
use super::{read_one, Cx, ResourceType};
use crate::Service;

const RTYPE: &str = "aws.log_group";

/// The `aws.log_group` implementation.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogGroup;

/// The group's ARN without the `:*` suffix that `arn` carries: the form the tagging API
/// takes and IAM policies name the group by.
fn arn_of(g: &SdkLogGroup) -> String {
    g.log_group_arn()
        .map(str::to_owned)
        .or_else(|| g.arn().map(|a| a.trim_end_matches(":*").to_owned()))
        .unwrap_or_default()
}

fn attrs_of(g: &SdkLogGroup) -> Json {
    json!({"name": g.log_group_name().unwrap_or_default(), "arn": arn_of(g)})
}

/// The longest common prefix of `names`, cut back to a character boundary.
fn common_prefix(names: &[&str]) -> String {
    let Some(first) = names.first() else {
        return String::new();
    };
    let mut len = first.len();
    for n in &names[1..] {
        len = len.min(
            first
                .bytes()
                .zip(n.bytes())
                .take_while(|(a, b)| a == b)
                .count(),
        );
    }
    while !first.is_char_boundary(len) {
        len -= 1;
    }
    first[..len].to_owned()
}

/// The groups whose names start with `prefix`, all pages.
async fn list_prefix(cx: &Cx, prefix: &str) -> Result<Vec<SdkLogGroup>, ProviderError> {
    let logs = &cx.aws.clients().logs;
    paged!(
        cx,
        Logs,
        "DescribeLogGroups",
        logs.describe_log_groups().log_group_name_prefix(prefix),
        log_groups
    )
    .await
}

/// The groups named in `names`, by exact name. A stack's groups share the prefix
/// `/iac/<stack>/`, so one paged `DescribeLogGroups` on the common prefix finds them all;
/// names with nothing in common are described one prefix each.
async fn describe(cx: &Cx, names: &[&str]) -> Result<HashMap<String, SdkLogGroup>, ProviderError> {
    let prefix = common_prefix(names);
    // A prefix as short as `/` would list the whole account's groups.
    let prefixes: Vec<String> = if prefix.len() >= 5 || names.len() == 1 {
        vec![prefix]
    } else {
        names.iter().map(|n| (*n).to_owned()).collect()
    };
    let mut out = HashMap::new();
    for p in prefixes {
        for g in list_prefix(cx, &p).await? {
            if let Some(name) = g.log_group_name() {
                if names.contains(&name) {
                    out.insert(name.to_owned(), g.clone());
                }
            }
        }
    }
    Ok(out)
}

async fn tags_of(cx: &Cx, arn: &str) -> Result<Json, ProviderError> {
    let resp = cx
        .aws
        .clients()
        .logs
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(cx.err(Service::Logs, "ListTagsForResource"))?;
    Ok(tags_json(resp.tags().cloned().unwrap_or_default()))
}

async fn set_retention(cx: &Cx, name: &str, days: Option<i64>) -> Result<(), ProviderError> {
    let logs = &cx.aws.clients().logs;
    match days {
        Some(days) => {
            let days = i32::try_from(days).map_err(|_| {
                ProviderError::new(
                    ErrorKind::Fatal,
                    format!("`retention_days` `{days}` is out of range"),
                )
            })?;
            logs.put_retention_policy()
                .log_group_name(name)
                .retention_in_days(days)
                .send()
                .await
                .map_err(cx.err(Service::Logs, "PutRetentionPolicy"))?;
        }
        None => {
            logs.delete_retention_policy()
                .log_group_name(name)
                .send()
                .await
                .map_err(cx.err(Service::Logs, "DeleteRetentionPolicy"))?;
        }
    }
    Ok(())
}

#[async_trait]
impl ResourceType for LogGroup {
    /// One paged `DescribeLogGroups` on the groups' common prefix, then the tags of each
    /// group found (the describe does not return them), a few groups at a time.
    async fn read(
        &self,
        cx: &Cx,
        requests: &[ReadRequest],
    ) -> Result<Vec<Option<Live>>, ProviderError> {
        let names: Vec<&str> = requests.iter().map(|r| r.physical_id.as_str()).collect();
        let found = describe(cx, &names).await?;
        // One `ListTagsForResource` per group and no batch form: sent concurrently.
        let found = &found;
        for_each_bounded(requests, READ_CONCURRENCY, |r| async move {
            let Some(g) = found.get(&r.physical_id) else {
                return Ok(None);
            };
            let mut inputs = Map::new();
            inputs.insert("name".into(), json!(r.physical_id));
            if let Some(days) = g.retention_in_days() {
                inputs.insert("retention_days".into(), json!(days));
            }
            inputs.insert("tags".into(), tags_of(cx, &arn_of(g)).await?);
            Ok(Some(Live {
                inputs: Json::Object(inputs),
                attrs: attrs_of(g),
            }))
        })
        .await
    }

    /// By name or ARN (the physical id is the name).
    async fn import(
        &self,
        cx: &Cx,
        name: &str,
        id: &str,
        desired: &Json,
    ) -> Result<Option<Imported>, ProviderError> {
        // `arn:aws:logs:REGION:ACCOUNT:log-group:NAME` (with `:*` as the console shows it).
        let group = id
            .split_once(":log-group:")
            .map_or(id, |(_, g)| g.trim_end_matches(":*"));
        read_one(self, cx, name, group, desired, json!({})).await
    }

    /// By `name`: the log group of exactly that name (see `find`), whoever owns it.
    async fn lookup(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Found>, ProviderError> {
        super::lookup::by_find(self, cx, name, inputs).await
    }

    /// By its name (the `name` input, unique per account and region); whose it is, by its
    /// tags.
    async fn find(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Existing>, ProviderError> {
        find_by_name(self, RTYPE, cx, name, inputs).await
    }

    /// A group of that name that exists already (whoever made it) makes the create fail
    /// with `Conflict`: its retention and tags are left as they are.
    async fn create(
        &self,
        cx: &Cx,
        op: &OpContext,
        _name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        let name = req_str(inputs, RTYPE, "name")?;
        let tags: HashMap<String, String> = input_tags(inputs).into_iter().collect();
        let created = cx
            .aws
            .clients()
            .logs
            .create_log_group()
            .log_group_name(name)
            .set_tags(Some(tags).filter(|t| !t.is_empty()))
            .send()
            .await
            .map_err(cx.err(Service::Logs, "CreateLogGroup"));
        taken_as_conflict(
            created,
            "ResourceAlreadyExistsException",
            &format!("log group `{name}`"),
        )?;
        if let Some(days) = inputs.get("retention_days").and_then(Json::as_i64) {
            set_retention(cx, name, Some(days)).await?;
        }
        let g = poll_until(
            op,
            &format!("log group `{name}` to become visible"),
            Backoff::SHORT,
            || async { Ok(describe(cx, &[name]).await?.remove(name)) },
        )
        .await?;
        Ok(Created {
            physical_id: name.to_owned(),
            attrs: attrs_of(&g),
        })
    }

    async fn update(
        &self,
        cx: &Cx,
        _op: &OpContext,
        id: &str,
        old: &Json,
        new: &Json,
        changed: &[String],
    ) -> Result<Json, ProviderError> {
        if changed.iter().any(|p| p == "retention_days") {
            set_retention(cx, id, new.get("retention_days").and_then(Json::as_i64)).await?;
        }
        let g = describe(cx, &[id])
            .await?
            .remove(id)
            .ok_or_else(|| gone(&format!("log group `{id}`")))?;
        let logs = &cx.aws.clients().logs;
        let arn = &arn_of(&g);
        let remove = |keys| async move {
            logs.untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(keys))
                .send()
                .await
                .map_err(cx.err(Service::Logs, "UntagResource"))?;
            Ok(())
        };
        // CloudWatch Logs takes the tags to add as a map.
        let add = |pairs: Vec<(String, String)>| async move {
            logs.tag_resource()
                .resource_arn(arn)
                .set_tags(Some(pairs.into_iter().collect::<HashMap<_, _>>()))
                .send()
                .await
                .map_err(cx.err(Service::Logs, "TagResource"))?;
            Ok(())
        };
        apply_tag_pairs(old, new, remove, add).await?;
        Ok(attrs_of(&g))
    }

    async fn delete(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        _inputs: &Json,
    ) -> Result<(), ProviderError> {
        op.progress(&format!("deleting log group `{id}` and its events"));
        cx.aws
            .clients()
            .logs
            .delete_log_group()
            .log_group_name(id)
            .send()
            .await
            .map_err(cx.err(Service::Logs, "DeleteLogGroup"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_prefix_of_a_stacks_groups_is_its_folder() {
        assert_eq!(
            common_prefix(&["/iac/shop/app", "/iac/shop/web"]),
            "/iac/shop/"
        );
        assert_eq!(
            common_prefix(&["/iac/shop/app", "/iac/shop/api"]),
            "/iac/shop/ap"
        );
        assert_eq!(common_prefix(&["/iac/shop/app"]), "/iac/shop/app");
        assert_eq!(common_prefix(&["/a", "/b"]), "/");
        assert_eq!(common_prefix(&[]), "");
        // Never cuts a multi-byte character in half.
        assert_eq!(common_prefix(&["/é1", "/é2"]), "/é");
    }
}
