//! `iac cost STACK` as text: every resource with its line items, the total, what is free,
//! what is not priced, and the usage assumed.

use std::fmt::Write as _;

use iac_engine::plan_cost::dollars;

use crate::estimate::Estimate;
use crate::price::Status;
use crate::prices::table;

/// A quantity without trailing zeros: `365`, `0.5`, `1.46`.
fn qty(q: f64) -> String {
    let s = format!("{q:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The breakdown `iac cost` prints.
pub fn render(e: &Estimate) -> String {
    let mut out = String::new();
    let region = e.region.as_deref().unwrap_or("(no region)");
    let _ = writeln!(
        out,
        "Monthly cost of stack `{}` in {region}, estimated in {} ({} hours a month):\n",
        e.stack, e.currency, e.hours_per_month
    );
    for r in e.resources.iter().filter(|r| r.status != Status::Free) {
        let head = format!("{} ({})", r.name, r.rtype);
        let figure = match r.status {
            Status::NotPriced if r.lines.is_empty() => "not priced".to_string(),
            Status::NotPriced => format!("{} + not priced", dollars(r.monthly)),
            _ => dollars(r.monthly),
        };
        let _ = writeln!(out, "  {head:<52} {figure:>10}");
        for l in &r.lines {
            let calc = format!("{} {} x ${}", qty(l.quantity), l.unit, l.unit_usd);
            let _ = writeln!(out, "      {:<46} {:>10}", l.what, dollars(l.monthly));
            let _ = writeln!(out, "        {calc}");
            if let Some(u) = &l.usage {
                let _ = writeln!(out, "        {u}");
            }
        }
        if let Some(n) = &r.note {
            let _ = writeln!(out, "      note: {n}");
        }
        out.push('\n');
    }
    let free = e.free();
    if !free.is_empty() {
        let _ = writeln!(out, "Free: {}\n", free.join(", "));
    }
    let _ = writeln!(out, "Total: {} a month", dollars(e.total));
    let uncounted: Vec<String> = e
        .resources
        .iter()
        .filter(|r| !r.counted && r.monthly > 0.0)
        .map(|r| format!("{} {}", r.name, dollars(r.monthly)))
        .collect();
    if !uncounted.is_empty() {
        let _ = writeln!(
            out,
            "Not in the total (existing, billed to their owner): {}",
            uncounted.join(", ")
        );
    }
    if !e.not_priced.is_empty() {
        let _ = writeln!(out, "Not priced: {}", e.not_priced.join(", "));
    }
    if !e.assumed.is_empty() {
        let _ = writeln!(
            out,
            "Assumed usage (set `usage:` in the stack): {}",
            e.assumed.join(", ")
        );
    }
    let read = e
        .region
        .as_deref()
        .and_then(|r| table().regions.get(r))
        .and_then(|p| p.values().map(|p| p.read.as_str()).min());
    match read {
        Some(d) => {
            let _ = writeln!(
                out,
                "Prices: prices/aws.yaml (on-demand, read {d}; refresh with `just prices`)"
            );
        }
        None => {
            let _ = writeln!(out, "Prices: prices/aws.yaml has no prices for {region}");
        }
    }
    out
}
