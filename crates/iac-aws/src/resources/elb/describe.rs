//! Describing load balancers and target groups, the two ELB objects named once per account
//! and region and tuned by attributes: by ARN in batches ([`describe`], and with their tags,
//! [`with_tags`]), by name ([`arn_by_name`]; `find` by the AWS name, [`find_named`]; the
//! name a create takes checked free, [`free_name`]), and one integer attribute read or set.
//! The two kinds differ only in the SDK calls, which [`impl_described!`] names once for each.

use std::collections::HashMap;
use std::future::Future;

use aws_sdk_elasticloadbalancingv2::types::{
    LoadBalancer, LoadBalancerAttribute, TargetGroup, TargetGroupAttribute,
};
use iac_engine::provider::{Existing, ProviderError, ReadRequest};
use serde_json::Value as Json;

use super::{aws_name, live_ids, read_tags, TagsByArn, DESCRIBE_BATCH};
use crate::resources::common::{
    absent_is_none, all_pages, describe_in_batches, find_existing, name_taken, physical_ids,
};
use crate::resources::{Cx, ResourceType};
use crate::Service;

/// Which objects one describe asks for.
pub(crate) enum By {
    /// Every object of the kind in the account and region.
    All,
    Arns(Vec<String>),
    Names(Vec<String>),
}

/// A load balancer or a target group as the describes below see it.
pub(crate) trait Described: Sized + Clone + Send + Sync + 'static {
    /// One page of the kind's describe (`marker`: the page to read, `None` the first):
    /// the objects and the marker of the next page.
    fn page(
        cx: &Cx,
        by: By,
        marker: Option<String>,
    ) -> impl Future<Output = Result<(Vec<Self>, Option<String>), ProviderError>> + Send;

    /// The object's ARN.
    fn arn(&self) -> Option<&str>;

    /// The object's name.
    fn name(&self) -> Option<&str>;

    /// The object's attributes, `(key, value)`.
    fn attributes(
        cx: &Cx,
        arn: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>, ProviderError>> + Send;

    /// Sets one attribute of the object.
    fn set_attribute(
        cx: &Cx,
        arn: &str,
        key: &str,
        value: String,
    ) -> impl Future<Output = Result<(), ProviderError>> + Send;
}

/// Describes the objects `arns` names, all pages, in batches; unknown ARNs are left out of
/// the answer (see [`describe_in_batches`]).
pub(crate) async fn describe<T: Described>(
    cx: &Cx,
    arns: &[String],
) -> Result<HashMap<String, T>, ProviderError> {
    describe_in_batches(arns, DESCRIBE_BATCH, |chunk| async move {
        let found = all_pages(|marker| T::page(cx, By::Arns(chunk.clone()), marker)).await?;
        Ok(found
            .into_iter()
            .filter_map(|o| Some((o.arn()?.to_owned(), o)))
            .collect())
    })
    .await
}

/// The ARN of every object of the kind in the account and region, all pages (for the
/// sweep).
pub(crate) async fn all_arns<T: Described>(cx: &Cx) -> Result<Vec<String>, ProviderError> {
    let all = all_pages(|marker| T::page(cx, By::All, marker)).await?;
    Ok(all
        .iter()
        .filter_map(|o| o.arn().map(str::to_owned))
        .collect())
}

/// The ARN of the object named `name` (names are unique per account and region); `None`
/// when there is none.
pub(crate) async fn arn_by_name<T: Described>(
    cx: &Cx,
    name: &str,
) -> Result<Option<String>, ProviderError> {
    let page = absent_is_none(T::page(cx, By::Names(vec![name.to_owned()]), None).await)?;
    Ok(page.and_then(|(found, _)| {
        found
            .iter()
            .filter(|o| o.name() == Some(name))
            .find_map(|o| o.arn().map(str::to_owned))
    }))
}

/// The objects `requests` name that exist, by ARN, and their tags: the describes in
/// batches, then one `DescribeTags` per 20 objects found.
pub(crate) async fn with_tags<T: Described>(
    cx: &Cx,
    requests: &[ReadRequest],
) -> Result<(HashMap<String, T>, TagsByArn), ProviderError> {
    let arns = physical_ids(requests);
    let found = describe::<T>(cx, &arns).await?;
    let tags = read_tags(cx, &live_ids(requests, &found)).await?;
    Ok((found, tags))
}

/// What `find` answers for a kind named once per account and region: the object with the
/// AWS name of `name` ([`aws_name`]) read by the type's own read; whose it is, by its tags.
pub(crate) async fn find_named<T: Described, R: ResourceType + ?Sized>(
    rtype: &R,
    cx: &Cx,
    name: &str,
    inputs: &Json,
) -> Result<Option<Existing>, ProviderError> {
    let Some(arn) = arn_by_name::<T>(cx, &aws_name(cx, name, inputs)).await? else {
        return Ok(None);
    };
    find_existing(rtype, cx, name, &arn, inputs).await
}

/// The AWS name a create of `name` takes ([`aws_name`]); a `Conflict`, changing nothing,
/// when an object of the kind (`what`) has it already: ELB would answer a create with the
/// same settings with the existing object, whoever made it.
pub(crate) async fn free_name<T: Described>(
    cx: &Cx,
    name: &str,
    inputs: &Json,
    what: &str,
) -> Result<String, ProviderError> {
    let aws = aws_name(cx, name, inputs);
    if let Some(arn) = arn_by_name::<T>(cx, &aws).await? {
        return Err(name_taken(&format!("{what} `{aws}` (`{arn}`)")));
    }
    Ok(aws)
}

/// The integer attribute `key` of the object `arn`; `None` when absent or not a number.
pub(crate) async fn int_attribute<T: Described>(
    cx: &Cx,
    arn: &str,
    key: &str,
) -> Result<Option<i64>, ProviderError> {
    Ok(T::attributes(cx, arn)
        .await?
        .into_iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.parse().ok()))
}

/// Sets the integer attribute `key` of the object `arn`.
pub(crate) async fn set_int_attribute<T: Described>(
    cx: &Cx,
    arn: &str,
    key: &str,
    value: i64,
) -> Result<(), ProviderError> {
    T::set_attribute(cx, arn, key, value.to_string()).await
}

/// Implements [`Described`] for one kind by naming its SDK type, calls and fields.
macro_rules! impl_described {
    ($sdk:ty, $describe:ident, $op:literal, $set_arns:ident, $items:ident, $arn:ident,
     $name:ident, $describe_attrs:ident, $attrs_op:literal, $modify_attrs:ident,
     $modify_op:literal, $attr:ty, $arn_param:ident) => {
        impl Described for $sdk {
            async fn page(
                cx: &Cx,
                by: By,
                marker: Option<String>,
            ) -> Result<(Vec<Self>, Option<String>), ProviderError> {
                let (arns, names) = match by {
                    By::All => (None, None),
                    By::Arns(arns) => (Some(arns), None),
                    By::Names(names) => (None, Some(names)),
                };
                let resp = cx
                    .aws
                    .clients()
                    .elbv2
                    .$describe()
                    .$set_arns(arns)
                    .set_names(names)
                    .set_marker(marker)
                    .send()
                    .await
                    .map_err(cx.err(Service::Elbv2, $op))?;
                Ok((
                    resp.$items().to_vec(),
                    resp.next_marker().map(str::to_owned),
                ))
            }

            fn arn(&self) -> Option<&str> {
                self.$arn()
            }

            fn name(&self) -> Option<&str> {
                self.$name()
            }

            async fn attributes(
                cx: &Cx,
                arn: &str,
            ) -> Result<Vec<(String, String)>, ProviderError> {
                let resp = cx
                    .aws
                    .clients()
                    .elbv2
                    .$describe_attrs()
                    .$arn_param(arn)
                    .send()
                    .await
                    .map_err(cx.err(Service::Elbv2, $attrs_op))?;
                Ok(resp
                    .attributes()
                    .iter()
                    .filter_map(|a| Some((a.key()?.to_owned(), a.value()?.to_owned())))
                    .collect())
            }

            async fn set_attribute(
                cx: &Cx,
                arn: &str,
                key: &str,
                value: String,
            ) -> Result<(), ProviderError> {
                cx.aws
                    .clients()
                    .elbv2
                    .$modify_attrs()
                    .$arn_param(arn)
                    .attributes(<$attr>::builder().key(key).value(value).build())
                    .send()
                    .await
                    .map_err(cx.err(Service::Elbv2, $modify_op))?;
                Ok(())
            }
        }
    };
}

impl_described!(
    LoadBalancer,
    describe_load_balancers,
    "DescribeLoadBalancers",
    set_load_balancer_arns,
    load_balancers,
    load_balancer_arn,
    load_balancer_name,
    describe_load_balancer_attributes,
    "DescribeLoadBalancerAttributes",
    modify_load_balancer_attributes,
    "ModifyLoadBalancerAttributes",
    LoadBalancerAttribute,
    load_balancer_arn
);

impl_described!(
    TargetGroup,
    describe_target_groups,
    "DescribeTargetGroups",
    set_target_group_arns,
    target_groups,
    target_group_arn,
    target_group_name,
    describe_target_group_attributes,
    "DescribeTargetGroupAttributes",
    modify_target_group_attributes,
    "ModifyTargetGroupAttributes",
    TargetGroupAttribute,
    target_group_arn
);
