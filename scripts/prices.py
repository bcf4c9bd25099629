"""Refresh prices/aws.yaml from AWS's price list files (the Price List Bulk API).

    scripts/prices.py [--table prices/aws.yaml] [--from-dir DIR] [--date YYYY-MM-DD]

For each region of the table and each offer its `sources:` name (AmazonECS, AWSELB, ...), the
offer file is read from DIR/<offer>-<region>.json when --from-dir is given, else downloaded
from https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/<offer>/current/<region>/index.json
(Route 53 is global: its file is .../AmazonRoute53/current/index.json, or
DIR/AmazonRoute53.json). Every price the script knows how to find (see RULES) is rewritten in
place, `usd:` and `read:`, leaving comments, order and the entries it cannot find (Fargate
Spot, a typical figure) as they are; what changed is printed. Review the diff like code.

`just prices` runs it. It needs network access, except with --from-dir, which is how
`just test` checks it on a small excerpt of real offer files (tests/fixtures/prices/).
"""

import argparse
import datetime
import json
import os
import re
import sys
import urllib.request

BASE = "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws"

# key -> (offer, usagetype suffix, productFamily or None). The usage types carry a region
# prefix (`USE1-`, `EUW1-`), hence the suffix match; a tiered price takes its first tier.
RULES = {
    "fargate_x86_vcpu_hour": ("AmazonECS", "-Fargate-vCPU-Hours:perCPU", None),
    "fargate_x86_gb_hour": ("AmazonECS", "-Fargate-GB-Hours", None),
    "fargate_arm_vcpu_hour": ("AmazonECS", "-Fargate-ARM-vCPU-Hours:perCPU", None),
    "fargate_arm_gb_hour": ("AmazonECS", "-Fargate-ARM-GB-Hours", None),
    "fargate_storage_gb_hour": ("AmazonECS", "-Fargate-EphemeralStorage-GB-Hours", None),
    "alb_hour": ("AWSELB", "-LoadBalancerUsage", "Load Balancer-Application"),
    "alb_lcu_hour": ("AWSELB", "-LCUUsage", "Load Balancer-Application"),
    "nat_gateway_hour": ("AmazonEC2", "-NatGateway-Hours", "NAT Gateway"),
    "nat_gateway_gb": ("AmazonEC2", "-NatGateway-Bytes", "NAT Gateway"),
    "public_ipv4_hour": ("AmazonVPC", "-PublicIPv4:InUseAddress", None),
    "route53_zone_month": ("AmazonRoute53", "HostedZone", None),
    "route53_queries_million": ("AmazonRoute53", "DNS-Queries", None),
    "logs_ingest_gb": ("AmazonCloudWatch", "-DataProcessing-Bytes", None),
    "logs_storage_gb_month": ("AmazonCloudWatch", "-TimedStorage-ByteHrs", None),
    "ecr_storage_gb_month": ("AmazonECR", "-TimedStorage-ByteHrs", None),
}

# Route 53 prices queries per query; the table says per million.
SCALE = {"route53_queries_million": 1_000_000}

GLOBAL = {"AmazonRoute53"}


def offer_file(offer, region, from_dir):
    if from_dir:
        name = f"{offer}.json" if offer in GLOBAL else f"{offer}-{region}.json"
        path = os.path.join(from_dir, name)
        if not os.path.exists(path):
            return None
        with open(path) as f:
            return json.load(f)
    url = f"{BASE}/{offer}/current/index.json" if offer in GLOBAL else f"{BASE}/{offer}/current/{region}/index.json"
    with urllib.request.urlopen(url) as r:
        return json.load(r)


def first_tier(term):
    dims = []
    for t in term.values():
        dims.extend(t.get("priceDimensions", {}).values())
    dims.sort(key=lambda d: float(d.get("beginRange", "0") or 0))
    for d in dims:
        usd = d.get("pricePerUnit", {}).get("USD")
        if usd is not None and float(usd) > 0:
            return float(usd)
    return None


def find(doc, suffix, family):
    on_demand = doc.get("terms", {}).get("OnDemand", {})
    for sku, product in doc.get("products", {}).items():
        attrs = product.get("attributes", {})
        usage = attrs.get("usagetype", "")
        if not (usage == suffix or usage.endswith(suffix)):
            continue
        if family and product.get("productFamily") != family:
            continue
        price = first_tier(on_demand.get(sku, {}))
        if price is not None:
            return price
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--table", default="prices/aws.yaml")
    ap.add_argument("--from-dir")
    ap.add_argument("--date", default=datetime.date.today().isoformat())
    args = ap.parse_args()
    with open(args.table) as f:
        lines = f.read().split("\n")
    region = None
    cache = {}
    changed = 0
    entry = re.compile(r"^(\s+)([a-z0-9_]+): \{ usd: ([0-9.]+), (.*)\}(.*)$")
    for i, line in enumerate(lines):
        m = re.match(r"^  ([a-z]{2}-[a-z]+-[0-9]+):\s*$", line)
        if m:
            region = m.group(1)
            continue
        m = entry.match(line)
        if not m or region is None or m.group(2) not in RULES:
            continue
        indent, key, old, rest, tail = m.groups()
        offer, suffix, family = RULES[key]
        doc_key = (offer, "global" if offer in GLOBAL else region)
        if doc_key not in cache:
            cache[doc_key] = offer_file(offer, region, args.from_dir)
        doc = cache[doc_key]
        if doc is None:
            continue
        price = find(doc, suffix, family)
        if price is None:
            print(f"{region} {key}: not found in {offer}; kept {old}", file=sys.stderr)
            continue
        price *= SCALE.get(key, 1)
        new = f"{price:.10g}"
        rest = re.sub(r"read: [0-9-]+", f"read: {args.date}", rest)
        lines[i] = f"{indent}{key}: {{ usd: {new}, {rest}}}{tail}"
        if float(new) != float(old):
            print(f"{region} {key}: {old} -> {new}")
            changed += 1
    with open(args.table, "w") as f:
        f.write("\n".join(lines))
    print(f"{changed} price(s) changed", file=sys.stderr)


if __name__ == "__main__":
    main()
