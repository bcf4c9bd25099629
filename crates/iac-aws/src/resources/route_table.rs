//! `aws.route_table`: routes and subnet associations reconciled against what is live, one
//! call per route or association that differs.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    Filter, ResourceType as Ec2ResourceType, RouteOrigin, RouteTable as Ec2RouteTable,
};
use iac_engine::provider::{Created, ErrorKind, Live, OpContext, ProviderError};
use serde_json::{json, Map, Value as Json};

use super::common::{absent_is_none, gone_is_ok, live_tags, malformed, req_str, str_list};
use super::ec2::{
    align, by_id, created_with_id, delete_when_unused, described, put_list, reconcile_tags,
    tag_spec, wait_visible, with_id, Ec2Ops, Ec2Type, LastInputs,
};
use super::{touches, Cx};
use crate::Service;

const TYPE: &str = "aws.route_table";

#[derive(Clone, Copy)]
pub struct RouteTable;

/// Where a route sends traffic: the stack format's property name and the target's id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Target {
    prop: &'static str,
    id: String,
}

/// A route as the stack writes it: `{destination, gateway | nat_gateway}`.
fn route_json(destination: &str, target: &Target) -> Json {
    let mut m = Map::new();
    m.insert("destination".to_owned(), json!(destination));
    m.insert(target.prop.to_owned(), json!(target.id));
    Json::Object(m)
}

/// The routes of the inputs, by destination.
fn input_routes(inputs: &Json) -> Result<BTreeMap<String, Target>, ProviderError> {
    let mut out = BTreeMap::new();
    for route in inputs
        .get("routes")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        let Some((dest, target)) = route_key(route) else {
            return Err(ProviderError::new(
                ErrorKind::Fatal,
                format!("`{TYPE}` route `{route}` needs `destination` and one of `gateway` and `nat_gateway`"),
            ));
        };
        out.insert(dest, target);
    }
    Ok(out)
}

fn route_key(route: &Json) -> Option<(String, Target)> {
    let dest = route.get("destination")?.as_str()?.to_owned();
    for prop in ["gateway", "nat_gateway"] {
        if let Some(id) = route.get(prop).and_then(Json::as_str) {
            return Some((
                dest,
                Target {
                    prop,
                    id: id.to_owned(),
                },
            ));
        }
    }
    None
}

/// The routes iac manages of a live table: not the VPC's `local` route, not routes
/// propagated from a VPN gateway, only IPv4 destinations to gateways iac knows.
fn live_routes(table: &Ec2RouteTable) -> BTreeMap<String, Target> {
    let mut out = BTreeMap::new();
    for route in table.routes() {
        if matches!(
            route.origin(),
            Some(RouteOrigin::CreateRouteTable | RouteOrigin::EnableVgwRoutePropagation)
        ) {
            continue;
        }
        let Some(dest) = route.destination_cidr_block() else {
            continue;
        };
        let target = if let Some(nat) = route.nat_gateway_id() {
            Target {
                prop: "nat_gateway",
                id: nat.to_owned(),
            }
        } else if let Some(gw) = route.gateway_id().filter(|g| *g != "local") {
            Target {
                prop: "gateway",
                id: gw.to_owned(),
            }
        } else {
            continue;
        };
        out.insert(dest.to_owned(), target);
    }
    out
}

/// The explicit subnet associations of a live table: subnet id -> association id.
fn live_associations(table: &Ec2RouteTable) -> BTreeMap<String, String> {
    table
        .associations()
        .iter()
        .filter(|a| !a.main().unwrap_or(false))
        .filter_map(|a| {
            Some((
                a.subnet_id()?.to_owned(),
                a.route_table_association_id()?.to_owned(),
            ))
        })
        .collect()
}

async fn describe_one(cx: &Cx, id: &str) -> Result<Option<Ec2RouteTable>, ProviderError> {
    let out = cx
        .aws
        .clients()
        .ec2
        .describe_route_tables()
        .route_table_ids(id)
        .send()
        .await
        .map_err(cx.err(Service::Ec2, "DescribeRouteTables"))?;
    Ok(out.route_tables().first().cloned())
}

/// Makes the live table's routes and associations those of `inputs`: deletes, replaces
/// and creates exactly the routes that differ, and (dis)associates exactly the subnets
/// that differ.
async fn reconcile(
    cx: &Cx,
    id: &str,
    live: &Ec2RouteTable,
    inputs: &Json,
) -> Result<(), ProviderError> {
    let ec2 = &cx.aws.clients().ec2;
    let want = input_routes(inputs)?;
    let have = live_routes(live);
    for dest in have.keys().filter(|d| !want.contains_key(*d)) {
        gone_is_ok(
            ec2.delete_route()
                .route_table_id(id)
                .destination_cidr_block(dest)
                .send()
                .await
                .map_err(cx.err(Service::Ec2, "DeleteRoute")),
        )?;
    }
    for (dest, target) in &want {
        let same = have.get(dest);
        if same == Some(target) {
            continue;
        }
        let gw = (target.prop == "gateway").then(|| target.id.clone());
        let nat = (target.prop == "nat_gateway").then(|| target.id.clone());
        if same.is_some() {
            ec2.replace_route()
                .route_table_id(id)
                .destination_cidr_block(dest)
                .set_gateway_id(gw)
                .set_nat_gateway_id(nat)
                .send()
                .await
                .map_err(cx.err(Service::Ec2, "ReplaceRoute"))?;
        } else {
            ec2.create_route()
                .route_table_id(id)
                .destination_cidr_block(dest)
                .set_gateway_id(gw)
                .set_nat_gateway_id(nat)
                .send()
                .await
                .map_err(cx.err(Service::Ec2, "CreateRoute"))?;
        }
    }

    let want: BTreeSet<String> = str_list(inputs, "subnets").into_iter().collect();
    let have = live_associations(live);
    for (subnet, assoc) in &have {
        if want.contains(subnet) {
            continue;
        }
        gone_is_ok(
            ec2.disassociate_route_table()
                .association_id(assoc)
                .send()
                .await
                .map_err(cx.err(Service::Ec2, "DisassociateRouteTable")),
        )?;
    }
    let missing: Vec<&String> = want.iter().filter(|s| !have.contains_key(*s)).collect();
    if !missing.is_empty() {
        associate(cx, id, &missing).await?;
    }
    Ok(())
}

/// Associates `subnets` with the table. A subnet still associated with another table
/// (it moves between tables in one apply, and the other table's update has not run yet)
/// is moved over with `ReplaceRouteTableAssociation`; AWS would refuse a second association.
async fn associate(cx: &Cx, id: &str, subnets: &[&String]) -> Result<(), ProviderError> {
    let ec2 = &cx.aws.clients().ec2;
    let out = ec2
        .describe_route_tables()
        .filters(
            Filter::builder()
                .name("association.subnet-id")
                .set_values(Some(subnets.iter().map(|s| (*s).clone()).collect()))
                .build(),
        )
        .send()
        .await
        .map_err(cx.err(Service::Ec2, "DescribeRouteTables"))?;
    let elsewhere: HashMap<&str, &str> = out
        .route_tables()
        .iter()
        .filter(|t| t.route_table_id() != Some(id))
        .flat_map(|t| t.associations())
        .filter_map(|a| Some((a.subnet_id()?, a.route_table_association_id()?)))
        .collect();
    for subnet in subnets {
        match elsewhere.get(subnet.as_str()) {
            Some(current) => {
                ec2.replace_route_table_association()
                    .association_id(*current)
                    .route_table_id(id)
                    .send()
                    .await
                    .map_err(cx.err(Service::Ec2, "ReplaceRouteTableAssociation"))?;
            }
            None => {
                ec2.associate_route_table()
                    .route_table_id(id)
                    .subnet_id(subnet.as_str())
                    .send()
                    .await
                    .map_err(cx.err(Service::Ec2, "AssociateRouteTable"))?;
            }
        }
    }
    Ok(())
}

impl Ec2Type for RouteTable {
    const TYPE: &'static str = TYPE;
    const ID_FILTER: &'static str = "route-table-id";
    const PLURAL: &'static str = "route tables";

    /// The tables one `DescribeRouteTables` (all pages) finds with `filters`, by id; routes
    /// and associations in the order and form of the last applied inputs (see [`align`]).
    async fn describe<'a>(
        cx: &'a Cx,
        filters: Vec<Filter>,
        last: &'a LastInputs<'a>,
    ) -> Result<HashMap<String, Live>, ProviderError> {
        let tables = described!(
            cx,
            "DescribeRouteTables",
            describe_route_tables(set_filters: filters) -> route_tables
        )
        .await?;
        Ok(by_id(&tables, |table| {
            let (id, vpc) = (table.route_table_id()?, table.vpc_id()?);
            let last = last.of(id);
            let routes = align(
                live_routes(table)
                    .into_iter()
                    .map(|(dest, target)| {
                        let json = route_json(&dest, &target);
                        ((dest, target), json)
                    })
                    .collect(),
                last.get("routes"),
                route_key,
            );
            let subnets = align(
                live_associations(table)
                    .into_keys()
                    .map(|s| (s.clone(), json!(s)))
                    .collect(),
                last.get("subnets"),
                |v| v.as_str().map(str::to_owned),
            );
            let mut inputs = Map::new();
            inputs.insert("vpc".to_owned(), json!(vpc));
            put_list(&mut inputs, last, "routes", routes);
            put_list(&mut inputs, last, "subnets", subnets);
            inputs.insert("tags".to_owned(), live_tags(table.tags()));
            Some(with_id(id, Json::Object(inputs)))
        }))
    }
}

#[async_trait]
impl Ec2Ops for RouteTable {
    async fn create(
        &self,
        cx: &Cx,
        op: &OpContext,
        _name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        let vpc = req_str(inputs, TYPE, "vpc")?;
        // Checked before anything is created, so a bad route leaves nothing behind.
        input_routes(inputs)?;
        let out = cx
            .aws
            .clients()
            .ec2
            .create_route_table()
            .vpc_id(vpc)
            .tag_specifications(tag_spec(Ec2ResourceType::RouteTable, inputs)?)
            .send()
            .await
            .map_err(cx.err(Service::Ec2, "CreateRouteTable"))?;
        let id = out
            .route_table()
            .and_then(|t| t.route_table_id())
            .ok_or_else(|| malformed("CreateRouteTable", "RouteTableId"))?
            .to_owned();
        let live =
            wait_visible(op, &format!("route table `{id}`"), || describe_one(cx, &id)).await?;
        reconcile(cx, &id, &live, inputs).await?;
        Ok(created_with_id(id))
    }

    /// Reconciles against the table as it is now, not against `old`: drift (a route added
    /// or removed outside iac) is undone too.
    async fn update(
        &self,
        cx: &Cx,
        _op: &OpContext,
        id: &str,
        old: &Json,
        new: &Json,
        changed: &[String],
    ) -> Result<Json, ProviderError> {
        if touches(changed, "routes") || touches(changed, "subnets") {
            let live = describe_one(cx, id).await?.ok_or_else(|| {
                ProviderError::new(
                    ErrorKind::NotFound,
                    format!("route table `{id}` no longer exists"),
                )
            })?;
            reconcile(cx, id, &live, new).await?;
        }
        reconcile_tags(cx, id, old, new).await?;
        Ok(json!({ "id": id }))
    }

    async fn delete(
        &self,
        cx: &Cx,
        op: &OpContext,
        id: &str,
        _inputs: &Json,
    ) -> Result<(), ProviderError> {
        let ec2 = &cx.aws.clients().ec2;
        let Some(live) = absent_is_none(describe_one(cx, id).await)?.flatten() else {
            return Ok(());
        };
        for assoc in live_associations(&live).values() {
            gone_is_ok(
                ec2.disassociate_route_table()
                    .association_id(assoc)
                    .send()
                    .await
                    .map_err(cx.err(Service::Ec2, "DisassociateRouteTable")),
            )?;
        }
        delete_when_unused(
            op,
            &format!("route table `{id}`"),
            Duration::from_secs(5 * 60),
            || async {
                ec2.delete_route_table()
                    .route_table_id(id)
                    .send()
                    .await
                    .map_err(cx.err(Service::Ec2, "DeleteRouteTable"))
            },
            || async {
                match describe_one(cx, id).await {
                    Ok(Some(t)) => live_associations(&t)
                        .keys()
                        .map(|s| format!("subnet association of `{s}`"))
                        .collect(),
                    _ => Vec::new(),
                }
            },
        )
        .await
    }
}
