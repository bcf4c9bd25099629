//! The reads every EC2 type shares: by the stack's tag (with the ids as a fallback), `find`
//! by the `iac:*` tags, `list_tagged`, and the shape of one describe's answer.

use std::collections::HashMap;
use std::future::Future;

use aws_sdk_ec2::types::Filter;
use iac_engine::provider::{Existing, Live, ProviderError, ReadRequest, Tagged};
use serde_json::{json, Value as Json};

use super::super::common::{existing, keep_tagged, tagged_of, tagged_or};
use super::super::Cx;
use super::tags::{id_filter, stack_filter};

/// One describe's answer by id: each object of `items` that `live` reads into the stack's
/// shape (`None` leaves it out: fields missing, or being deleted). The answer of every
/// [`Ec2Type::describe`](super::Ec2Type::describe).
pub fn by_id<T>(
    items: &[T],
    live: impl FnMut(&T) -> Option<(String, Live)>,
) -> HashMap<String, Live> {
    items.iter().filter_map(live).collect()
}

/// An object read back as `inputs` with its attributes `attrs`: `(id, live)` for [`by_id`].
pub fn live_by_id(id: &str, inputs: Json, attrs: Json) -> (String, Live) {
    (id.to_owned(), Live { inputs, attrs })
}

/// An object read back as `inputs`, its one attribute its id: `(id, live)` for [`by_id`].
pub fn with_id(id: &str, inputs: Json) -> (String, Live) {
    live_by_id(id, inputs, json!({ "id": id }))
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
pub(super) async fn read_by_stack_tag<F, Fut>(
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
    keep_tagged(
        cx,
        id_filter_name,
        tagged_of(found.iter().map(|(id, live)| (id.clone(), live.clone()))),
    );
    let missing = missing_ids(requests, &found);
    if !missing.is_empty() {
        found.extend(describe(vec![id_filter(id_filter_name, missing)]).await?);
    }
    Ok(answer(requests, found))
}

/// `find` for an EC2 type: ONE describe filtered on the stack's `iac:stack` tag and the
/// resource's `iac:name` tag (plus `extra` filters, e.g. on a state), through the type's
/// `describe` (the one its read uses). Every EC2 create sets these tags in the create call
/// itself (`TagSpecifications`, see [`tag_spec`](super::tag_spec)), so an object a create made is never
/// untagged, and what this finds is always this stack's resource.
///
/// Several matches (a replacement made before the old object was deleted carries the same
/// tags as the old one) are told apart by the create `inputs`: the object whose
/// replace-marked properties (a subnet's CIDR, a security group's description) equal them
/// is the one that create made. Among equals, the smallest id: most EC2 describes return
/// no creation time, and the answer must not change between calls.
pub(super) async fn find_by_tags<F, Fut>(
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
pub(super) async fn list_by_stack_tag<F, Fut>(
    cx: &Cx,
    key: &'static str,
    extra: Vec<Filter>,
    describe: F,
) -> Result<Vec<Tagged>, ProviderError>
where
    F: FnOnce(Vec<Filter>) -> Fut,
    Fut: Future<Output = Result<HashMap<String, Live>, ProviderError>>,
{
    tagged_or(cx, key, || async {
        let mut filters = vec![stack_filter(&cx.stack)];
        filters.extend(extra);
        Ok(tagged_of(describe(filters).await?))
    })
    .await
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
