"""Where an ECS service runs, found with boto3, never through iac.

    service_network.py --endpoint URL --region REGION --cluster CLUSTER --service SERVICE

Prints one JSON object: `subnets` and `security_groups` of the service's awsvpc network
configuration, and `vpcs`, the VPC of each of those subnets. Used by the emulator test of the
platform example (`crates/iac/tests/ports.rs`): the app stack's service must run in the
network stack's subnets.

Credentials are the emulator's dummy ones, from the environment as for any boto3 program.
"""

import argparse
import json

import boto3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--region", required=True)
    ap.add_argument("--cluster", required=True)
    ap.add_argument("--service", required=True)
    args = ap.parse_args()
    ecs = boto3.client("ecs", endpoint_url=args.endpoint, region_name=args.region)
    ec2 = boto3.client("ec2", endpoint_url=args.endpoint, region_name=args.region)
    services = ecs.describe_services(cluster=args.cluster, services=[args.service])["services"]
    if not services:
        print(json.dumps({"subnets": [], "security_groups": [], "vpcs": []}))
        return
    vpc = services[0]["networkConfiguration"]["awsvpcConfiguration"]
    subnets = sorted(vpc.get("subnets", []))
    found = ec2.describe_subnets(SubnetIds=subnets)["Subnets"] if subnets else []
    print(
        json.dumps(
            {
                "subnets": subnets,
                "security_groups": sorted(vpc.get("securityGroups", [])),
                "vpcs": sorted({s["VpcId"] for s in found}),
            }
        )
    )


if __name__ == "__main__":
    main()
