//! Monthly cost estimates of stacks and plans, from the offline price table
//! prices/aws.yaml (compiled in: no network call at plan time).
//!
//! A resource is priced from its inputs ([`price::Pricer`]): Fargate services from their
//! task definition's `cpu` and `memory` times `desired_count` (`scaling.min` when the service
//! scales) (730 hours a month), load
//! balancers per hour plus capacity units, NAT gateways per hour plus data, a public IPv4
//! address for each Elastic IP, each zone of an internet-facing load balancer and each task
//! with `assign_public_ip`, hosted zones, log groups and image repositories. Usage-priced
//! items take the stack's `usage:` figures or a stated default ([`usage::DEFAULTS`]).
//! Free types are listed as free; a type or region without a price is "not priced", never
//! zero.
//!
//! Architecture invariant: no AWS SDK and no network. This crate reads the stack and the
//! plan as data; the engine stays free of prices (the binary attaches
//! [`iac_engine::PlanCost`] to a plan).

pub mod estimate;
pub mod price;
pub mod prices;
pub mod report;
mod scaling;
pub mod usage;

pub use estimate::{estimate_stack, estimate_stack_with, plan_cost, plan_cost_with, Estimate};
pub use price::{Item, Line, Pricer, ResourceEstimate, Status};
pub use prices::{table, PriceTable};
pub use report::render;
pub use usage::Usage;
