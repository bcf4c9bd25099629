//! The price table: prices/aws.yaml at the root of the repository, compiled into the binary
//! so that no estimate makes a network call.

use std::sync::LazyLock;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// The text of prices/aws.yaml.
pub const PRICES_YAML: &str = include_str!("../../../prices/aws.yaml");

/// Keys of the prices a region has, as written in prices/aws.yaml.
pub mod key {
    pub const FARGATE_X86_VCPU_HOUR: &str = "fargate_x86_vcpu_hour";
    pub const FARGATE_X86_GB_HOUR: &str = "fargate_x86_gb_hour";
    pub const FARGATE_ARM_VCPU_HOUR: &str = "fargate_arm_vcpu_hour";
    pub const FARGATE_ARM_GB_HOUR: &str = "fargate_arm_gb_hour";
    pub const FARGATE_SPOT_VCPU_HOUR: &str = "fargate_spot_vcpu_hour";
    pub const FARGATE_SPOT_GB_HOUR: &str = "fargate_spot_gb_hour";
    pub const FARGATE_STORAGE_GB_HOUR: &str = "fargate_storage_gb_hour";
    pub const ALB_HOUR: &str = "alb_hour";
    pub const ALB_LCU_HOUR: &str = "alb_lcu_hour";
    pub const NAT_GATEWAY_HOUR: &str = "nat_gateway_hour";

    /// An EC2 instance type's on-demand hour (Linux), e.g. `ec2_t3.medium_hour`.
    pub fn ec2_instance_hour(instance_type: &str) -> String {
        format!("ec2_{instance_type}_hour")
    }
    pub const NAT_GATEWAY_GB: &str = "nat_gateway_gb";
    pub const PUBLIC_IPV4_HOUR: &str = "public_ipv4_hour";
    pub const ROUTE53_ZONE_MONTH: &str = "route53_zone_month";
    pub const ROUTE53_QUERIES_MILLION: &str = "route53_queries_million";
    pub const LOGS_INGEST_GB: &str = "logs_ingest_gb";
    pub const LOGS_STORAGE_GB_MONTH: &str = "logs_storage_gb_month";
    pub const ECR_STORAGE_GB_MONTH: &str = "ecr_storage_gb_month";

    /// Every key; each region of the table must have all of them.
    pub const ALL: &[&str] = &[
        FARGATE_X86_VCPU_HOUR,
        FARGATE_X86_GB_HOUR,
        FARGATE_ARM_VCPU_HOUR,
        FARGATE_ARM_GB_HOUR,
        FARGATE_SPOT_VCPU_HOUR,
        FARGATE_SPOT_GB_HOUR,
        FARGATE_STORAGE_GB_HOUR,
        ALB_HOUR,
        ALB_LCU_HOUR,
        NAT_GATEWAY_HOUR,
        NAT_GATEWAY_GB,
        PUBLIC_IPV4_HOUR,
        ROUTE53_ZONE_MONTH,
        ROUTE53_QUERIES_MILLION,
        LOGS_INGEST_GB,
        LOGS_STORAGE_GB_MONTH,
        ECR_STORAGE_GB_MONTH,
    ];
}

/// prices/aws.yaml, parsed.
#[derive(Debug, Clone, Deserialize)]
pub struct PriceTable {
    /// `USD`: every price is in it.
    pub currency: String,
    /// What an hourly price is multiplied by for a month (730).
    pub hours_per_month: f64,
    /// Where the prices come from, by the short name each price's `source` gives.
    pub sources: IndexMap<String, Source>,
    /// Prices by region, then by [`key`].
    pub regions: IndexMap<String, IndexMap<String, Price>>,
}

/// A page the prices were read from, and the price list offer file that refreshes them.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Source {
    pub url: String,
    /// The service code of the offer file (`AmazonECS`).
    pub offer: String,
}

/// One price.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Price {
    /// US dollars per unit (the unit is in the key's name).
    pub usd: f64,
    /// A key of [`PriceTable::sources`].
    pub source: String,
    /// The day the figure was read, `YYYY-MM-DD`.
    pub read: String,
    /// A typical figure of a price that moves (Spot), not a quote.
    #[serde(default)]
    pub typical: bool,
}

static TABLE: LazyLock<PriceTable> = LazyLock::new(|| {
    PriceTable::parse(PRICES_YAML).expect("prices/aws.yaml is checked by the crate's tests")
});

/// The table compiled in.
pub fn table() -> &'static PriceTable {
    &TABLE
}

impl PriceTable {
    /// Parse a table in the format of prices/aws.yaml.
    pub fn parse(text: &str) -> Result<PriceTable, String> {
        serde_yaml_ng::from_str(text).map_err(|e| e.to_string())
    }

    /// The price `key` in `region`, if the table has it.
    pub fn get(&self, region: &str, key: &str) -> Option<&Price> {
        self.regions.get(region)?.get(key)
    }

    /// Whether the table prices `region` at all.
    pub fn has_region(&self, region: &str) -> bool {
        self.regions.contains_key(region)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_region_has_every_price_with_a_known_source_and_a_date() {
        let t = table();
        assert_eq!(t.currency, "USD");
        assert_eq!(t.hours_per_month, 730.0);
        assert!(t.has_region("us-east-1"));
        for (region, prices) in &t.regions {
            for k in key::ALL {
                let p = prices
                    .get(*k)
                    .unwrap_or_else(|| panic!("{region} has no `{k}`"));
                assert!(p.usd > 0.0, "{region} {k}");
                assert!(
                    t.sources.contains_key(&p.source),
                    "{region} {k}: {}",
                    p.source
                );
                let date = p.read.as_bytes();
                assert!(
                    date.len() == 10 && date[4] == b'-' && date[7] == b'-',
                    "{region} {k}: read `{}`",
                    p.read
                );
            }
            for k in prices.keys() {
                assert!(
                    key::ALL.contains(&k.as_str()),
                    "{region}: unknown key `{k}`"
                );
            }
        }
    }
}
