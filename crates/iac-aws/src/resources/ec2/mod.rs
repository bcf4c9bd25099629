//! What the EC2 network types share. Each type says how it describes ([`Ec2Type`]) and how
//! it changes ([`Ec2Ops`]); the wrapper [`Ec2`] gives every one the same read by the stack's
//! tag, `find`, `list_tagged`, `lookup` and wait after a create. Beside it, one module per
//! job: [`by_tag`] (the reads by the stack's tag and a describe's answer by id), [`tags`]
//! (tags in EC2's shape, the stack and id filters), [`wait`] (until visible, and deletes
//! retried while in use), [`align`] (live lists in the order last applied).

use std::collections::HashMap;
use std::future::Future;

use async_trait::async_trait;
use aws_sdk_ec2::types::Filter;
use iac_engine::provider::{
    Created, Existing, Found, Imported, Live, OpContext, ProviderError, ReadRequest, Tagged,
};
use serde_json::{json, Value as Json};

use super::{read_one, Cx, ResourceType};

pub mod align;
pub mod by_tag;
pub mod tags;
pub mod wait;

pub use align::*;
pub use by_tag::*;
pub use tags::*;
pub use wait::*;

/// The body of an [`Ec2Type::describe`]: every object of the EC2 call `$call` (all pages,
/// with the describe filters `$filters` set by `$set`, most calls' `set_filters`), the
/// page's items read with `$items`; failures named `$op`.
/// `described!(cx, "DescribeVpcs", describe_vpcs(set_filters: filters) -> vpcs)`.
macro_rules! described {
    ($cx:expr, $op:literal, $call:ident($set:ident: $filters:expr) -> $items:ident) => {
        $crate::resources::common::paged!(
            $cx,
            Ec2,
            $op,
            $cx.aws.clients().ec2.$call().$set(Some($filters.clone())),
            $items
        )
    };
}
pub(crate) use described;

/// What a create of a type whose one attribute is its id answers.
pub fn created_with_id(id: String) -> Created {
    Created {
        attrs: json!({ "id": id }),
        physical_id: id,
    }
}

/// One EC2 type as the reads it shares with the others see it: its id filter, the filters
/// that leave out objects being deleted, and its one paged describe. `read`, `list_tagged`,
/// `find`, `lookup` and the wait after a create are then the same for every EC2 type
/// ([`read`], [`list_tagged`], [`find`], [`lookup`], [`wait_created`]); a type's module
/// says only how it describes and how it changes.
pub trait Ec2Type {
    /// The stack type, `aws.vpc`.
    const TYPE: &'static str;
    /// The describe filter on the type's id, `vpc-id`.
    const ID_FILTER: &'static str;
    /// The type's objects in `lookup`'s errors, `VPCs`.
    const PLURAL: &'static str;

    /// The `(property, describe filter)` pairs an `existing: true` lookup searches by,
    /// besides the tags; `None` for a type the loader refuses `existing: true` on.
    const LOOKUP_BY: Option<&'static [(&'static str, &'static str)]> = None;

    /// Filters every lookup adds (a VPC's `state` available); none by default.
    fn lookup_extra() -> Vec<Filter> {
        Vec::new()
    }

    /// Filters that keep objects being deleted out of `find` and `list_tagged` (a VPC's
    /// `state`); none by default.
    fn alive() -> Vec<Filter> {
        Vec::new()
    }

    /// One describe (all pages) with `filters`, by id, each object read back into the
    /// stack's shape by the inputs `last` gives for it.
    fn describe<'a>(
        cx: &'a Cx,
        filters: Vec<Filter>,
        last: &'a LastInputs<'a>,
    ) -> impl Future<Output = Result<HashMap<String, Live>, ProviderError>> + Send + 'a;
}

/// What an EC2 type does on its own: the changes. Everything that reads is the same for
/// every EC2 type and comes from its [`Ec2Type`] through [`Ec2`].
#[async_trait]
pub trait Ec2Ops: Ec2Type + Copy + Send + Sync + 'static {
    /// See [`ResourceType::create`].
    async fn create(
        &self,
        cx: &Cx,
        op: &OpContext,
        name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError>;

    /// See [`ResourceType::update`].
    async fn update(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        old: &Json,
        new: &Json,
        changed: &[String],
    ) -> Result<Json, ProviderError>;

    /// See [`ResourceType::delete`].
    async fn delete(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        inputs: &Json,
    ) -> Result<(), ProviderError>;

    /// See [`ResourceType::import`]: by default the object's read.
    async fn import(
        &self,
        cx: &Cx,
        name: &str,
        id: &str,
        desired: &Json,
    ) -> Result<Option<Imported>, ProviderError> {
        read_one(
            &Ec2(*self),
            cx,
            name,
            id,
            desired,
            Json::Object(Default::default()),
        )
        .await
    }
}

/// An EC2 type as the provider hands it out: its reads, `find`, `list_tagged` and `lookup`
/// the shared ones below, its changes its own.
pub struct Ec2<T>(pub T);

#[async_trait]
impl<T: Ec2Ops> ResourceType for Ec2<T> {
    async fn read(
        &self,
        cx: &Cx,
        requests: &[ReadRequest],
    ) -> Result<Vec<Option<Live>>, ProviderError> {
        read::<T>(cx, requests).await
    }

    async fn create(
        &self,
        cx: &Cx,
        op: &OpContext,
        name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        self.0.create(cx, op, name, inputs).await
    }

    async fn update(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        old: &Json,
        new: &Json,
        changed: &[String],
    ) -> Result<Json, ProviderError> {
        self.0.update(cx, op, id, old, new, changed).await
    }

    async fn delete(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        inputs: &Json,
    ) -> Result<(), ProviderError> {
        self.0.delete(cx, op, id, inputs).await
    }

    async fn find(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Existing>, ProviderError> {
        find::<T>(cx, name, inputs).await
    }

    async fn list_tagged(&self, cx: &Cx) -> Result<Vec<Tagged>, ProviderError> {
        list_tagged::<T>(cx).await
    }

    async fn import(
        &self,
        cx: &Cx,
        name: &str,
        id: &str,
        desired: &Json,
    ) -> Result<Option<Imported>, ProviderError> {
        self.0.import(cx, name, id, desired).await
    }

    async fn lookup(
        &self,
        cx: &Cx,
        _name: &str,
        inputs: &Json,
    ) -> Result<Option<Found>, ProviderError> {
        match T::LOOKUP_BY {
            Some(by) => lookup::<T>(cx, inputs, by, T::lookup_extra()).await,
            None => Ok(None),
        }
    }
}

/// The read of an EC2 type: one describe (per page) for all the stack's objects of it (see
/// [`read_by_stack_tag`]).
pub async fn read<T: Ec2Type>(
    cx: &Cx,
    requests: &[ReadRequest],
) -> Result<Vec<Option<Live>>, ProviderError> {
    let last = last_inputs(requests);
    read_by_stack_tag(cx, requests, T::ID_FILTER, |filters| {
        T::describe(cx, filters, &last)
    })
    .await
}

/// The `list_tagged` of an EC2 type (see [`list_by_stack_tag`]): one describe filtered on
/// the stack's tag, objects being deleted left out.
pub async fn list_tagged<T: Ec2Type>(cx: &Cx) -> Result<Vec<Tagged>, ProviderError> {
    let last = LastInputs::All(&Json::Null);
    list_by_stack_tag(cx, T::ID_FILTER, T::alive(), |filters| {
        T::describe(cx, filters, &last)
    })
    .await
}

/// The `find` of an EC2 type: by the `iac:stack` and `iac:name` tags (see [`find_by_tags`]),
/// objects being deleted left out.
pub async fn find<T: Ec2Type>(
    cx: &Cx,
    name: &str,
    inputs: &Json,
) -> Result<Option<Existing>, ProviderError> {
    let last = LastInputs::All(inputs);
    find_by_tags(cx, T::TYPE, name, inputs, T::alive(), |filters| {
        T::describe(cx, filters, &last)
    })
    .await
}

/// The `lookup` of an EC2 type: by every tag given and each `(property, filter)` of `by`
/// that `inputs` sets, plus `extra`: one describe with those filters. Several matches are
/// an error naming each (see [`super::lookup::single`]).
pub async fn lookup<T: Ec2Type>(
    cx: &Cx,
    inputs: &Json,
    by: &[(&str, &str)],
    extra: Vec<Filter>,
) -> Result<Option<Found>, ProviderError> {
    let last = LastInputs::All(inputs);
    let mut filters = super::lookup::ec2_filters(inputs, by);
    filters.extend(extra);
    let found = T::describe(cx, filters, &last).await?;
    let matches = found.into_iter().map(|(id, l)| (id, l.attrs)).collect();
    super::lookup::single(T::TYPE, T::PLURAL, inputs, matches)
}
