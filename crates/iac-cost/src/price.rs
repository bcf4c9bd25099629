//! One resource priced from its inputs: the stack's properties, or a plan's `before` or
//! `after`, as JSON (references as `{"$ref": "NAME.ATTR"}`).

use serde::Serialize;
use serde_json::Value as Json;

use crate::prices::{key, PriceTable};
use crate::usage::Usage;

/// One resource, as the estimate sees it.
#[derive(Debug, Clone)]
pub struct Item {
    pub name: String,
    pub rtype: String,
    /// Its inputs as JSON.
    pub props: Json,
    /// An `existing: true` lookup: billed to its owner, whatever this stack does.
    pub existing: bool,
}

/// Whether a resource has a price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Its line items make its cost.
    Priced,
    /// AWS does not bill it (or bills it through another resource, named in the note).
    Free,
    /// At least part of its cost is unknown to the estimate (see the note).
    NotPriced,
}

/// One billed quantity: `365 vCPU-hours x $0.04048 = $14.78`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    pub what: String,
    pub quantity: f64,
    pub unit: String,
    /// US dollars per unit.
    pub unit_usd: f64,
    /// `quantity x unit_usd`.
    pub monthly: f64,
    /// The usage figure behind `quantity`, when it is usage-priced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<String>,
}

/// A resource's monthly estimate.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceEstimate {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub status: Status,
    pub lines: Vec<Line>,
    /// The sum of `lines`.
    pub monthly: f64,
    /// False for an `existing: true` lookup: shown, never added to the total.
    pub counted: bool,
    /// Why it is free, not priced, or not counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What prices an [`Item`]: the table, the region and the usage.
pub struct Pricer<'a> {
    pub table: &'a PriceTable,
    pub region: Option<&'a str>,
    pub usage: &'a Usage,
}

/// Line items being gathered for one resource.
struct Lines<'p> {
    pricer: &'p Pricer<'p>,
    lines: Vec<Line>,
    /// A price the table does not have, or a quantity not known before apply.
    missing: Option<String>,
}

impl Lines<'_> {
    /// Add `quantity` units at the table's price `key`; `hourly` multiplies by the hours of
    /// a month.
    fn add(&mut self, what: &str, quantity: f64, unit: &str, price: &str, usage: Option<String>) {
        let Some(region) = self.pricer.region else {
            self.missing = Some("the stack has no region".into());
            return;
        };
        let Some(p) = self.pricer.table.get(region, price) else {
            self.missing = Some(if self.pricer.table.has_region(region) {
                format!("no `{price}` price for region `{region}` in prices/aws.yaml")
            } else {
                format!("no prices for region `{region}` in prices/aws.yaml")
            });
            return;
        };
        self.lines.push(Line {
            what: what.to_string(),
            quantity,
            unit: unit.to_string(),
            unit_usd: p.usd,
            monthly: quantity * p.usd,
            usage,
        });
    }

    fn hours(&self) -> f64 {
        self.pricer.table.hours_per_month
    }
}

fn free(item: &Item, why: &str) -> ResourceEstimate {
    ResourceEstimate {
        name: item.name.clone(),
        rtype: item.rtype.clone(),
        status: Status::Free,
        lines: Vec::new(),
        monthly: 0.0,
        counted: !item.existing,
        note: Some(why.to_string()),
    }
}

/// Whether a service's tasks run on EC2 instances: `launch_type: EC2`, or a capacity
/// provider strategy naming neither `FARGATE` nor `FARGATE_SPOT`.
fn on_ec2(p: &Json) -> bool {
    if p.get("launch_type").and_then(Json::as_str) == Some("EC2") {
        return true;
    }
    let providers: Vec<&str> = p
        .get("capacity_provider_strategy")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| i.get("capacity_provider").and_then(Json::as_str))
        .collect();
    !providers.is_empty() && !providers.iter().any(|c| c.starts_with("FARGATE"))
}

/// A number written as a number or as a string of one (`cpu: "256"`).
pub(crate) fn number(v: Option<&Json>) -> Option<f64> {
    match v? {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl Pricer<'_> {
    /// The estimate of `item`. `task`: for an `aws.ecs_service`, the inputs of the task
    /// definition it runs (`None` when it is not known).
    pub fn price(&self, item: &Item, task: Option<&Json>) -> ResourceEstimate {
        let mut l = Lines {
            pricer: self,
            lines: Vec::new(),
            missing: None,
        };
        let p = &item.props;
        let mut note: Option<String> = None;
        match item.rtype.as_str() {
            "aws.vpc"
            | "aws.subnet"
            | "aws.internet_gateway"
            | "aws.route_table"
            | "aws.security_group"
            | "aws.iam_role" => {
                return free(item, "no charge");
            }
            "aws.instance_profile" | "aws.launch_template" => return free(item, "no charge"),
            "aws.capacity_provider" => {
                return free(
                    item,
                    "no charge; its instances are billed with its aws.autoscaling_group",
                );
            }
            "aws.certificate" => return free(item, "public ACM certificates are free"),
            "aws.target_group" | "aws.listener" | "aws.listener_rule" => {
                return free(item, "billed with its load balancer");
            }
            "aws.task_definition" => return free(item, "billed through the services that run it"),
            "aws.service_discovery_namespace" => {
                l.missing = Some(
                    "its Route 53 private hosted zone is billed monthly, and Cloud Map DNS queries by use"
                        .into(),
                );
            }
            "aws.dns_record" => {
                return free(item, "records are free; queries are billed with the zone (alias queries to AWS resources are free)");
            }
            "aws.ecs_cluster" => {
                if p.get("container_insights") != Some(&Json::Bool(true)) {
                    return free(
                        item,
                        "no charge; its tasks are billed through their services",
                    );
                }
                l.missing = Some("Container Insights metrics and logs are billed by use".into());
            }
            "aws.eip" => {
                let h = l.hours();
                l.add(
                    "public IPv4 address",
                    h,
                    "hours",
                    key::PUBLIC_IPV4_HOUR,
                    None,
                );
                note = Some("billed while allocated, attached or idle".into());
            }
            "aws.nat_gateway" => {
                let h = l.hours();
                l.add("NAT gateway", h, "hours", key::NAT_GATEWAY_HOUR, None);
                let (gb, u) = self.usage.stated("nat_gb_per_month");
                l.add("data processed", gb, "GB", key::NAT_GATEWAY_GB, Some(u));
                note = Some("its public IPv4 address is billed with its aws.eip".into());
            }
            "aws.load_balancer" => {
                let h = l.hours();
                l.add("load balancer", h, "hours", key::ALB_HOUR, None);
                let (lcu, u) = self.usage.stated("alb_lcu_per_hour");
                l.add(
                    "capacity units",
                    lcu * h,
                    "LCU-hours",
                    key::ALB_LCU_HOUR,
                    Some(u),
                );
                if p.get("internal") != Some(&Json::Bool(true)) {
                    let zones = p
                        .get("subnets")
                        .and_then(Json::as_array)
                        .map_or(0, Vec::len);
                    let what = format!("public IPv4 addresses ({zones}, one per subnet)");
                    l.add(
                        &what,
                        zones as f64 * h,
                        "hours",
                        key::PUBLIC_IPV4_HOUR,
                        None,
                    );
                }
            }
            "aws.hosted_zone" => {
                l.add(
                    "hosted zone",
                    1.0,
                    "zone-months",
                    key::ROUTE53_ZONE_MONTH,
                    None,
                );
                let (q, u) = self.usage.stated("route53_queries_per_month_millions");
                l.add(
                    "standard queries",
                    q,
                    "million queries",
                    key::ROUTE53_QUERIES_MILLION,
                    Some(u),
                );
            }
            "aws.log_group" => {
                let (gb, u) = self.usage.stated("log_gb_per_month");
                l.add("ingestion", gb, "GB", key::LOGS_INGEST_GB, Some(u.clone()));
                match number(p.get("retention_days")) {
                    Some(days) => {
                        let stored = gb * days / 30.0;
                        let what = format!("storage ({days} days kept)");
                        l.add(
                            &what,
                            stored,
                            "GB-months",
                            key::LOGS_STORAGE_GB_MONTH,
                            Some(u),
                        );
                    }
                    None => {
                        let what = "storage after a year (no retention_days: it keeps growing)";
                        l.add(
                            what,
                            gb * 12.0,
                            "GB-months",
                            key::LOGS_STORAGE_GB_MONTH,
                            Some(u),
                        );
                    }
                }
            }
            "aws.ecr_repository" => {
                let (gb, u) = self.usage.stated("ecr_gb");
                l.add(
                    "image storage",
                    gb,
                    "GB-months",
                    key::ECR_STORAGE_GB_MONTH,
                    Some(u),
                );
            }
            // On EC2 (a launch type or a capacity provider strategy without Fargate), the
            // tasks are billed through the instances they run on.
            "aws.ecs_service" if on_ec2(p) => {
                return free(
                    item,
                    "its tasks run on the cluster's EC2 instances, billed with them",
                );
            }
            "aws.ecs_service"
                if p.get("capacity_provider_strategy")
                    .is_some_and(|v| !v.is_null()) =>
            {
                l.missing = Some(
                    "a capacity provider strategy: how many tasks run on Fargate is known only when ECS places them".into(),
                );
            }
            "aws.ecs_service" => self.fargate(&mut l, p, task),
            "aws.autoscaling_group" => {
                self.instances(&mut l, p, task);
                note = Some(
                    "at its starting size; a capacity provider's managed scaling moves it".into(),
                );
            }
            other => l.missing = Some(format!("no price for type `{other}`")),
        }
        let monthly = l.lines.iter().map(|x| x.monthly).sum();
        let status = if l.missing.is_some() {
            Status::NotPriced
        } else {
            Status::Priced
        };
        if item.existing {
            note = Some(
                "existing: billed to its owner whatever this stack does; not in the total".into(),
            );
        }
        ResourceEstimate {
            name: item.name.clone(),
            rtype: item.rtype.clone(),
            status,
            lines: l.lines,
            monthly,
            counted: !item.existing,
            note: l.missing.or(note),
        }
    }

    /// An Auto Scaling group: `desired` (else `min`) instances of its launch template's
    /// `instance_type`, on demand, at the table's `ec2_<TYPE>_hour` price (EBS volumes and
    /// data transfer are not counted).
    fn instances(&self, l: &mut Lines, p: &Json, template: Option<&Json>) {
        let Some(count) = number(p.get("desired")).or_else(|| number(p.get("min"))) else {
            l.missing = Some("the group's `desired` or `min` is known only after apply".into());
            return;
        };
        let Some(kind) = template
            .and_then(|t| t.get("instance_type"))
            .and_then(Json::as_str)
        else {
            l.missing =
                Some("its launch template's `instance_type` is not known before apply".into());
            return;
        };
        let h = l.hours();
        let what = format!("{kind} instances ({count})");
        l.add(
            &what,
            count * h,
            "instance-hours",
            &key::ec2_instance_hour(kind),
            None,
        );
    }

    /// A Fargate service: its tasks' vCPU, memory and extra storage, and a public IPv4
    /// address per task when `assign_public_ip` is on.
    ///
    /// With `scaling`, the count is `scaling.min` (what the service costs at the least; the
    /// scaler's count is not known before it runs), and each line says so.
    fn fargate(&self, l: &mut Lines, p: &Json, task: Option<&Json>) {
        let scaling = crate::scaling::Scaling::of(p);
        let count = match &scaling {
            Some(s) => s.min,
            None => number(p.get("desired_count")),
        };
        let Some(count) = count else {
            l.missing = Some(match scaling {
                Some(_) => "`scaling.min` is known only after apply".into(),
                None => "`desired_count` is known only after apply".into(),
            });
            return;
        };
        let assumed = scaling.as_ref().map(crate::scaling::Scaling::assumption);
        let Some(task) = task else {
            l.missing = Some("its task definition is not known before apply".into());
            return;
        };
        let (Some(cpu), Some(memory)) = (number(task.get("cpu")), number(task.get("memory")))
        else {
            l.missing =
                Some("the task definition's `cpu` or `memory` is not known before apply".into());
            return;
        };
        let arm = task.get("architecture").and_then(Json::as_str) == Some("ARM64");
        let (arch, vcpu_key, gb_key) = if arm {
            ("ARM", key::FARGATE_ARM_VCPU_HOUR, key::FARGATE_ARM_GB_HOUR)
        } else {
            ("x86", key::FARGATE_X86_VCPU_HOUR, key::FARGATE_X86_GB_HOUR)
        };
        let h = l.hours();
        let vcpu = cpu / 1024.0;
        let gb = memory / 1024.0;
        let tasks = if count == 1.0 { "task" } else { "tasks" };
        l.add(
            &format!("Fargate vCPU, {arch} ({count} {tasks} x {vcpu} vCPU)"),
            count * vcpu * h,
            "vCPU-hours",
            vcpu_key,
            assumed.clone(),
        );
        l.add(
            &format!("Fargate memory ({count} {tasks} x {gb} GB)"),
            count * gb * h,
            "GB-hours",
            gb_key,
            assumed.clone(),
        );
        if let Some(storage) = number(task.get("ephemeral_storage")).filter(|s| *s > 20.0) {
            l.add(
                &format!(
                    "Fargate storage beyond 20 GB ({count} {tasks} x {} GB)",
                    storage - 20.0
                ),
                count * (storage - 20.0) * h,
                "GB-hours",
                key::FARGATE_STORAGE_GB_HOUR,
                assumed.clone(),
            );
        }
        if p.get("assign_public_ip") == Some(&Json::Bool(true)) {
            l.add(
                &format!("public IPv4 addresses ({count}, one per task)"),
                count * h,
                "hours",
                key::PUBLIC_IPV4_HOUR,
                assumed.clone(),
            );
        }
    }
}
