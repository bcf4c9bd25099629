//! `aws.ecr_repository`: a private container image repository.
//!
//! The physical id is the repository name. Scan on push and tag immutability change in
//! place (`PutImageScanningConfiguration`, `PutImageTagMutability`); tags too. A repository
//! that still holds images is deleted only with `force_delete: true`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_ecr::types::{ImageScanningConfiguration, ImageTagMutability, Repository, Tag};
use iac_engine::provider::{
    Created, Existing, Found, Imported, Live, OpContext, ProviderError, ReadRequest,
};
use serde_json::{json, Value as Json};

use super::common::{
    apply_tag_diff, bool_or, describe_in_batches, find_by_name, for_each_bounded, gone, live_tags,
    malformed, physical_ids, req_str, sdk_tags_of, taken_as_conflict, READ_CONCURRENCY,
};
use super::{read_one, Cx, ResourceType};
use crate::Service;

const RTYPE: &str = "aws.ecr_repository";

/// DescribeRepositories takes at most 100 names per call.
const DESCRIBE_BATCH: usize = 100;

/// The `aws.ecr_repository` implementation.
#[derive(Debug, Clone, Copy, Default)]
pub struct EcrRepository;

fn attrs_of(r: &Repository) -> Json {
    json!({
        "arn": r.repository_arn().unwrap_or_default(),
        "url": r.repository_uri().unwrap_or_default(),
        "name": r.repository_name().unwrap_or_default(),
    })
}

fn mutability(inputs: &Json) -> ImageTagMutability {
    if bool_or(inputs, "immutable_tags", false) {
        ImageTagMutability::Immutable
    } else {
        ImageTagMutability::Mutable
    }
}

fn scanning(inputs: &Json) -> ImageScanningConfiguration {
    ImageScanningConfiguration::builder()
        .scan_on_push(bool_or(inputs, "scan_on_push", true))
        .build()
}

/// Describes repositories by name; unknown names are left out of the answer.
async fn describe(cx: &Cx, names: &[String]) -> Result<HashMap<String, Repository>, ProviderError> {
    describe_in_batches(names, DESCRIBE_BATCH, |chunk| describe_batch(cx, chunk)).await
}

/// One describe of `names`, by name.
async fn describe_batch(
    cx: &Cx,
    names: Vec<String>,
) -> Result<HashMap<String, Repository>, ProviderError> {
    let resp = cx
        .aws
        .clients()
        .ecr
        .describe_repositories()
        .set_repository_names(Some(names))
        .send()
        .await
        .map_err(cx.err(Service::Ecr, "DescribeRepositories"))?;
    Ok(resp
        .repositories()
        .iter()
        .filter_map(|r| Some((r.repository_name()?.to_owned(), r.clone())))
        .collect())
}

#[async_trait]
impl ResourceType for EcrRepository {
    /// One `DescribeRepositories` per 100 names, then the tags of each repository found
    /// (the describe does not return them), a few repositories at a time.
    async fn read(
        &self,
        cx: &Cx,
        requests: &[ReadRequest],
    ) -> Result<Vec<Option<Live>>, ProviderError> {
        let names = physical_ids(requests);
        let found = describe(cx, &names).await?;
        // One `ListTagsForResource` per repository and no batch form: sent concurrently.
        let found = &found;
        for_each_bounded(requests, READ_CONCURRENCY, |r| async move {
            let Some(repo) = found.get(&r.physical_id) else {
                return Ok(None);
            };
            let tags = cx
                .aws
                .clients()
                .ecr
                .list_tags_for_resource()
                .resource_arn(repo.repository_arn().unwrap_or_default())
                .send()
                .await
                .map_err(cx.err(Service::Ecr, "ListTagsForResource"))?;
            let scan = repo.image_scanning_configuration().map_or_else(
                || bool_or(&r.last_inputs, "scan_on_push", true),
                |c| c.scan_on_push(),
            );
            let immutable = match repo.image_tag_mutability() {
                Some(m) => matches!(
                    m,
                    ImageTagMutability::Immutable | ImageTagMutability::ImmutableWithExclusion
                ),
                None => bool_or(&r.last_inputs, "immutable_tags", false),
            };
            Ok(Some(Live {
                inputs: json!({
                    "name": r.physical_id,
                    "scan_on_push": scan,
                    "immutable_tags": immutable,
                    // Not a property of the repository: what destroy will do with images.
                    "force_delete": bool_or(&r.last_inputs, "force_delete", false),
                    "tags": live_tags(tags.tags()),
                }),
                attrs: attrs_of(repo),
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
        let repo = id.split_once(":repository/").map_or(id, |(_, r)| r);
        read_one(self, cx, name, repo, desired, json!({})).await
    }

    /// By `name`: the repository of that name (see `find`), whoever owns it.
    async fn lookup(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Found>, ProviderError> {
        super::lookup::by_find(self, cx, name, inputs).await
    }

    /// By its name (the `name` input, unique per registry); whose it is, by its tags.
    async fn find(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Existing>, ProviderError> {
        find_by_name(self, RTYPE, cx, name, inputs).await
    }

    /// A repository of that name that exists already (whoever made it) makes the create
    /// fail with `Conflict`, changing nothing.
    async fn create(
        &self,
        cx: &Cx,
        _op: &OpContext,
        _name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        let name = req_str(inputs, RTYPE, "name")?;
        let ecr = &cx.aws.clients().ecr;
        let created = ecr
            .create_repository()
            .repository_name(name)
            .image_scanning_configuration(scanning(inputs))
            .image_tag_mutability(mutability(inputs))
            .set_tags(sdk_tags_of(inputs)?)
            .send()
            .await
            .map_err(cx.err(Service::Ecr, "CreateRepository"));
        let repo = taken_as_conflict(
            created,
            "RepositoryAlreadyExistsException",
            &format!("ECR repository `{name}`"),
        )?
        .repository()
        .cloned()
        .ok_or_else(|| malformed("CreateRepository", "repository"))?;
        Ok(Created {
            physical_id: name.to_owned(),
            attrs: attrs_of(&repo),
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
        let ecr = &cx.aws.clients().ecr;
        if changed.iter().any(|p| p == "scan_on_push") {
            ecr.put_image_scanning_configuration()
                .repository_name(id)
                .image_scanning_configuration(scanning(new))
                .send()
                .await
                .map_err(cx.err(Service::Ecr, "PutImageScanningConfiguration"))?;
        }
        if changed.iter().any(|p| p == "immutable_tags") {
            ecr.put_image_tag_mutability()
                .repository_name(id)
                .image_tag_mutability(mutability(new))
                .send()
                .await
                .map_err(cx.err(Service::Ecr, "PutImageTagMutability"))?;
        }
        let repo = describe(cx, &[id.to_owned()])
            .await?
            .remove(id)
            .ok_or_else(|| gone(&format!("repository `{id}`")))?;
        let arn = repo.repository_arn().unwrap_or_default();
        let remove = |keys| async move {
            ecr.untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(keys))
                .send()
                .await
                .map_err(cx.err(Service::Ecr, "UntagResource"))?;
            Ok(())
        };
        let add = |tags: Vec<Tag>| async move {
            ecr.tag_resource()
                .resource_arn(arn)
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(cx.err(Service::Ecr, "TagResource"))?;
            Ok(())
        };
        apply_tag_diff(old, new, remove, add).await?;
        Ok(attrs_of(&repo))
    }

    async fn delete(
        &self,
        cx: &Cx,
        _op: &OpContext,
        id: &str,
        inputs: &Json,
    ) -> Result<(), ProviderError> {
        let force = bool_or(inputs, "force_delete", false);
        let deleted = cx
            .aws
            .clients()
            .ecr
            .delete_repository()
            .repository_name(id)
            .force(force)
            .send()
            .await
            .map_err(cx.err(Service::Ecr, "DeleteRepository"));
        match deleted {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("RepositoryNotEmptyException") => Err(ProviderError::new(
                e.kind,
                format!(
                    "{}; repository `{id}` still holds images: delete them, or set `force_delete: true` to delete them with it",
                    e.message
                ),
            )),
            Err(e) => Err(e),
        }
    }
}
