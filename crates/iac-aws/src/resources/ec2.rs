//! What the EC2 network types share: tags in EC2's shape, batched reads by the stack's tag
//! (with the ids as a fallback), the "who still uses it" lookup for deletes, and list
//! alignment for no-drift reads.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{Filter, ResourceType as Ec2ResourceType, Tag, TagSpecification};
use iac_engine::provider::{
    Created, ErrorKind, Existing, Found, Imported, Live, OpContext, ProviderError, ReadRequest,
    Tagged,
};
use serde_json::Value as Json;

use super::common::{
    existing, gone_is_ok, poll_until, retry_dependency, sdk_tag_keys, sdk_tags, sdk_tags_of,
    Backoff, TagDiff,
};
use super::{read_one, Cx, ResourceType};
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
    let diff = TagDiff::between(old, new);
    let ec2 = &cx.aws.clients().ec2;
    if !diff.remove.is_empty() {
        ec2.delete_tags()
            .resources(id)
            .set_tags(Some(sdk_tag_keys::<Tag>(&diff.remove)?))
            .send()
            .await
            .map_err(cx.err(Service::Ec2, "DeleteTags"))?;
    }
    if !diff.add.is_empty() {
        ec2.create_tags()
            .resources(id)
            .set_tags(Some(sdk_tags::<Tag>(&diff.add)?))
            .send()
            .await
            .map_err(cx.err(Service::Ec2, "CreateTags"))?;
    }
    Ok(())
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

/// The describe filter on the tag the engine puts on every resource of stack `stack`.
/// (Stack names are `[a-z0-9-]`, so the value holds none of the filter wildcards `*`, `?`.)
fn stack_filter(stack: &str) -> Filter {
    Filter::builder()
        .name("tag:iac:stack")
        .values(stack)
        .build()
}

/// A describe filter on `ids`. Unlike the `*Ids` parameters, a filter does not fail the
/// whole call when one of them was deleted outside iac.
fn id_filter(name: &str, ids: Vec<&str>) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(ids.into_iter().map(str::to_owned).collect()))
        .build()
}

/// Reads the requested resources of one EC2 type in one describe (per page), with one more
/// only when the first did not find them all.
///
/// `describe` runs the type's paged describe with the filters given and returns what it
/// found by id. The first call filters by the stack's `iac:stack` tag, so it costs the same
/// however many resources the stack has. A resource whose tags were edited outside iac is
/// not in that answer, and reading it as deleted would make the next apply create a
/// duplicate; so when some requested ids are missing, one more describe filtered by
/// `id_filter_name` (`vpc-id`, `group-id`, ...) on those ids alone finds them: they are
/// live, and their tag drift shows in the plan and is restored by apply. Ids missing from
/// both answers are gone.
async fn read_by_stack_tag<F, Fut>(
    cx: &Cx,
    requests: &[ReadRequest],
    id_filter_name: &'static str,
    mut describe: F,
) -> Result<Vec<Option<Live>>, ProviderError>
where
    F: FnMut(Vec<Filter>) -> Fut,
    Fut: Future<Output = Result<HashMap<String, Live>, ProviderError>>,
{
    if requests.is_empty() {
        return Ok(Vec::new());
    }
    let mut found = describe(vec![stack_filter(&cx.stack)]).await?;
    // Everything of the stack this describe saw, for the plan's orphan check.
    let tagged = tagged_of(found.iter().map(|(id, live)| (id.clone(), live.clone())));
    cx.tagged
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id_filter_name, tagged);
    let missing = missing_ids(requests, &found);
    if !missing.is_empty() {
        found.extend(describe(vec![id_filter(id_filter_name, missing)]).await?);
    }
    Ok(answer(requests, found))
}

/// `find` for an EC2 type: ONE describe filtered on the stack's `iac:stack` tag and the
/// resource's `iac:name` tag (plus `extra` filters, e.g. on a state), through the type's
/// `describe` (the one its read uses). Every EC2 create sets these tags in the create call
/// itself (`TagSpecifications`, see [`tag_spec`]), so an object a create made is never
/// untagged, and what this finds is always this stack's resource.
///
/// Several matches (a replacement made before the old object was deleted carries the same
/// tags as the old one) are told apart by the create `inputs`: the object whose
/// replace-marked properties (a subnet's CIDR, a security group's description) equal them
/// is the one that create made. Among equals, the smallest id: most EC2 describes return
/// no creation time, and the answer must not change between calls.
async fn find_by_tags<F, Fut>(
    cx: &Cx,
    rtype: &str,
    name: &str,
    inputs: &Json,
    extra: Vec<Filter>,
    describe: F,
) -> Result<Option<Existing>, ProviderError>
where
    F: FnOnce(Vec<Filter>) -> Fut,
    Fut: Future<Output = Result<HashMap<String, Live>, ProviderError>>,
{
    let mut filters = vec![
        stack_filter(&cx.stack),
        Filter::builder().name("tag:iac:name").values(name).build(),
    ];
    filters.extend(extra);
    let found = describe(filters).await?;
    let forcing: Vec<&str> = iac_stack::schema::lookup(rtype)
        .map(|s| {
            s.props
                .iter()
                .filter(|p| p.replace)
                .map(|p| p.name)
                .collect()
        })
        .unwrap_or_default();
    let made_by_this_create = |live: &Live| {
        forcing.iter().all(|p| match inputs.get(*p) {
            None | Some(Json::Null) => true,
            Some(want) => live.inputs.get(*p) == Some(want),
        })
    };
    Ok(found
        .into_iter()
        .min_by(|a, b| (!made_by_this_create(&a.1), &a.0).cmp(&(!made_by_this_create(&b.1), &b.0)))
        .map(|(id, live)| existing(cx, name, id, live)))
}

/// `list_tagged` for an EC2 type: what the plan's read of the type just found by the
/// stack's tag (see [`read_by_stack_tag`]), or else ONE describe (per page) filtered on the
/// stack's `iac:stack` tag (plus `extra` filters, e.g. on a state), through the type's
/// `describe`. `key` is the type's id filter name, as given to the read.
async fn list_by_stack_tag<F, Fut>(
    cx: &Cx,
    key: &'static str,
    extra: Vec<Filter>,
    describe: F,
) -> Result<Vec<Tagged>, ProviderError>
where
    F: FnOnce(Vec<Filter>) -> Fut,
    Fut: Future<Output = Result<HashMap<String, Live>, ProviderError>>,
{
    let read = cx
        .tagged
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(key);
    if let Some(tagged) = read {
        return Ok(tagged);
    }
    let mut filters = vec![stack_filter(&cx.stack)];
    filters.extend(extra);
    Ok(tagged_of(describe(filters).await?))
}

/// Objects by id as [`Tagged`], by id.
fn tagged_of(found: impl IntoIterator<Item = (String, Live)>) -> Vec<Tagged> {
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

/// The last applied inputs a describe shapes its answer by (list order, properties the
/// describe does not return): those of each requested id for a read, the create inputs
/// for whatever a `find` turns up.
pub enum LastInputs<'a> {
    ById(HashMap<&'a str, &'a Json>),
    All(&'a Json),
}

impl LastInputs<'_> {
    /// The last applied inputs for the object `id` (`null` when a read did not ask for it).
    pub fn of(&self, id: &str) -> &Json {
        match self {
            LastInputs::ById(by_id) => by_id.get(id).copied().unwrap_or(&Json::Null),
            LastInputs::All(inputs) => inputs,
        }
    }
}

/// The requested ids not in `found`, sorted and without duplicates.
fn missing_ids<'r, T>(requests: &'r [ReadRequest], found: &HashMap<String, T>) -> Vec<&'r str> {
    let mut ids: Vec<&str> = requests
        .iter()
        .map(|r| r.physical_id.as_str())
        .filter(|id| !found.contains_key(*id))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Answers the requests, in order, from what the describes found by id (anything else the
/// stack's tag found, e.g. a resource the state does not know, is left out).
fn answer<T>(requests: &[ReadRequest], mut found: HashMap<String, T>) -> Vec<Option<T>> {
    requests
        .iter()
        .map(|r| found.remove(&r.physical_id))
        .collect()
}

/// The last applied inputs of each request, by id: what reads take the form of lists and
/// of properties a describe does not return from.
pub fn last_inputs(requests: &[ReadRequest]) -> LastInputs<'_> {
    LastInputs::ById(
        requests
            .iter()
            .map(|r| (r.physical_id.as_str(), &r.last_inputs))
            .collect(),
    )
}

/// The network interfaces matching `filter_name=id` (e.g. `vpc-id`), as
/// `eni-0abc (description)`: what keeps a VPC, subnet or security group from being deleted.
/// Best effort: it only enriches an error message, so a failure here yields nothing.
pub async fn interfaces_using(cx: &Cx, filter_name: &str, id: &str) -> Vec<String> {
    let out = cx
        .aws
        .clients()
        .ec2
        .describe_network_interfaces()
        .filters(Filter::builder().name(filter_name).values(id).build())
        .send()
        .await;
    let Ok(out) = out else {
        return Vec::new();
    };
    out.network_interfaces()
        .iter()
        .filter_map(|eni| {
            let eni_id = eni.network_interface_id()?;
            Some(match eni.description().filter(|d| !d.is_empty()) {
                Some(d) => format!("`{eni_id}` ({d})"),
                None => format!("`{eni_id}`"),
            })
        })
        .collect()
}

/// How long a delete is retried while something still uses the resource: AWS frees the
/// network interfaces of deleted load balancers and tasks, and the addresses of deleted
/// NAT gateways, only minutes later.
pub const IN_USE_LIMIT: Duration = Duration::from_secs(10 * 60);

/// Deletes `what` with `delete`, retried while AWS refuses because something still uses it,
/// for at most `limit`; `users` names what does, for the error when time runs out (see
/// [`retry_dependency`]). A resource already gone counts as deleted.
pub async fn delete_when_unused<T, F, Fut, D, DFut>(
    op: &OpContext,
    what: &str,
    limit: Duration,
    delete: F,
    users: D,
) -> Result<(), ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
    D: FnOnce() -> DFut,
    DFut: Future<Output = Vec<String>>,
{
    gone_is_ok(retry_dependency(op, what, Backoff::LONG.with_limit(limit), delete, users).await)
}

/// Waits until a describe by id sees a resource just created.
///
/// EC2 is eventually consistent: right after `Create*` returns, `Describe*` may not see the
/// new id yet. A read in that window would report the resource missing and the next plan
/// would create a duplicate, so every create returns only once its resource is visible.
/// `describe` answers `Ok(Some(_))` once it is (a not-found error counts as not yet).
pub async fn wait_visible<T, F, Fut>(
    op: &OpContext,
    what: &str,
    mut describe: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, ProviderError>>,
{
    poll_until(
        op,
        &format!("{what} to become visible"),
        Backoff::SHORT,
        || {
            let fut = describe();
            async move {
                match fut.await {
                    Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
                    other => other,
                }
            }
        },
    )
    .await
}

/// Waits until the object `id` that a create just made is visible ([`wait_visible`]) to the
/// type's own describe (the one its read uses), filtered on its id and `extra` (e.g.
/// [`available`]); returns it as a read would, shaped by the create's `inputs`.
///
/// The one "until visible" wait of the EC2 types: each says only how it describes.
pub async fn wait_created<T: Ec2Type>(
    cx: &Cx,
    op: &OpContext,
    what: &str,
    id: &str,
    extra: &[Filter],
    inputs: &Json,
) -> Result<Live, ProviderError> {
    let last = LastInputs::All(inputs);
    wait_visible(op, &format!("{what} `{id}`"), || {
        let mut filters = vec![id_filter(T::ID_FILTER, vec![id])];
        filters.extend(extra.iter().cloned());
        let found = T::describe(cx, filters, &last);
        async move { Ok(found.await?.remove(id)) }
    })
    .await
}

/// The describe filter on the `state` of VPCs and subnets that keeps the available ones.
pub fn available() -> Filter {
    Filter::builder().name("state").values("available").build()
}

/// Orders a live list like the list last applied, so an unchanged list reads back equal.
///
/// AWS returns routes, associations and rules in its own order, while the engine compares
/// lists element by element. Every live item whose `key` matches an item of `last` takes
/// that item's place and form (it is the same thing, e.g. `port: 443` for a live
/// `443-443`); live items iac did not apply follow, sorted by key, and show as drift.
pub fn align<K: Ord + Clone>(
    live: Vec<(K, Json)>,
    last: Option<&Json>,
    key_of_last: impl Fn(&Json) -> Option<K>,
) -> Vec<Json> {
    let mut remaining: BTreeMap<K, Vec<Json>> = BTreeMap::new();
    for (k, v) in live {
        remaining.entry(k).or_default().push(v);
    }
    let mut out = Vec::new();
    for item in last.and_then(Json::as_array).into_iter().flatten() {
        let Some(k) = key_of_last(item) else { continue };
        if let Some(same) = remaining.get_mut(&k) {
            if !same.is_empty() {
                same.remove(0);
                out.push(item.clone());
            }
        }
    }
    out.extend(remaining.into_values().flatten());
    out
}

/// Puts an optional list property into read-back inputs: an empty live list is left out
/// when the last applied inputs left the property out too, so "omitted" reads back as
/// omitted rather than as `[]`.
pub fn put_list(
    inputs: &mut serde_json::Map<String, Json>,
    last: &Json,
    prop: &str,
    items: Vec<Json>,
) {
    if items.is_empty() && last.get(prop).is_none_or(Json::is_null) {
        return;
    }
    inputs.insert(prop.to_owned(), Json::Array(items));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn align_keeps_the_applied_order_and_form_and_appends_extras_sorted() {
        let live = vec![
            ("b".to_owned(), json!({"k": "b", "form": "live"})),
            ("z".to_owned(), json!({"k": "z", "form": "live"})),
            ("a".to_owned(), json!({"k": "a", "form": "live"})),
            ("c".to_owned(), json!({"k": "c", "form": "live"})),
        ];
        let last = json!([
            {"k": "c", "form": "applied"},
            {"k": "gone", "form": "applied"},
            {"k": "a", "form": "applied"},
        ]);
        let key = |v: &Json| v.get("k").and_then(Json::as_str).map(str::to_owned);
        let out = align(live, Some(&last), key);
        assert_eq!(
            out,
            vec![
                json!({"k": "c", "form": "applied"}),
                json!({"k": "a", "form": "applied"}),
                json!({"k": "b", "form": "live"}),
                json!({"k": "z", "form": "live"}),
            ]
        );
    }

    #[test]
    fn put_list_leaves_out_an_empty_list_that_was_omitted() {
        let mut m = serde_json::Map::new();
        put_list(&mut m, &json!({}), "routes", vec![]);
        assert!(m.is_empty());
        put_list(&mut m, &json!({"routes": []}), "routes", vec![]);
        assert_eq!(m.get("routes"), Some(&json!([])));
        put_list(&mut m, &json!({}), "subnets", vec![json!("subnet-1")]);
        assert_eq!(m.get("subnets"), Some(&json!(["subnet-1"])));
    }
}
