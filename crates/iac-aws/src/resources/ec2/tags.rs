//! Tags in EC2's shape (on a create, and reconciled on an update), and the describe
//! filters on the stack's tag and on ids.

use aws_sdk_ec2::types::{Filter, ResourceType as Ec2ResourceType, Tag, TagSpecification};
use iac_engine::provider::ProviderError;
use serde_json::Value as Json;

use super::super::common::{apply_tag_diff, sdk_tag_keys, sdk_tags_of};
use super::super::Cx;
use crate::Service;

/// The `TagSpecification` that tags a new resource in its create call, so it is never
/// visible untagged (a crash between create and tag would leave an orphan no read finds).
pub fn tag_spec(rtype: Ec2ResourceType, inputs: &Json) -> Result<TagSpecification, ProviderError> {
    Ok(TagSpecification::builder()
        .resource_type(rtype)
        .set_tags(sdk_tags_of::<Tag>(inputs)?)
        .build())
}

/// Sets and removes exactly the tags that differ between `old` (live: the engine hands an
/// update the values the plan read, so tags changed outside iac are in the diff) and `new`:
/// one `CreateTags` and one `DeleteTags` at most, none when nothing changed.
pub async fn reconcile_tags(
    cx: &Cx,
    id: &str,
    old: &Json,
    new: &Json,
) -> Result<(), ProviderError> {
    let ec2 = &cx.aws.clients().ec2;
    let remove = |keys: Vec<String>| async move {
        // A tag without a value removes the key whatever its value.
        ec2.delete_tags()
            .resources(id)
            .set_tags(Some(sdk_tag_keys::<Tag>(&keys)?))
            .send()
            .await
            .map_err(cx.err(Service::Ec2, "DeleteTags"))?;
        Ok(())
    };
    let add = |tags: Vec<Tag>| async move {
        ec2.create_tags()
            .resources(id)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(cx.err(Service::Ec2, "CreateTags"))?;
        Ok(())
    };
    apply_tag_diff(old, new, remove, add).await
}

/// The describe filter on the tag the engine puts on every resource of stack `stack`.
/// (Stack names are `[a-z0-9-]`, so the value holds none of the filter wildcards `*`, `?`.)
pub fn stack_filter(stack: &str) -> Filter {
    Filter::builder()
        .name("tag:iac:stack")
        .values(stack)
        .build()
}

/// A describe filter on `ids`. Unlike the `*Ids` parameters, a filter does not fail the
/// whole call when one of them was deleted outside iac.
pub(super) fn id_filter(name: &str, ids: Vec<&str>) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(ids.into_iter().map(str::to_owned).collect()))
        .build()
}
