"""What a stack has in an AWS account, found with boto3, never through iac.

    leftovers.py --endpoint URL --region REGION --stack NAME

Prints one JSON object: `tagged`, every object that carries the tag `iac:stack=NAME` (type,
id, `iac:name`), and `task_definitions`, every revision (ACTIVE or INACTIVE) of the task
definition families those revisions belong to. Exits 0 either way; the caller decides what
must be empty. Used by the emulator tests that check a stack from outside iac (`crates/iac/
tests/ports.rs`): after destroy `tagged` must be empty, and a second apply of an unchanged
stack must not add a revision.

Credentials are the emulator's dummy ones, from the environment as for any boto3 program.
"""

import argparse
import json

import boto3

TAG = "iac:stack"


def tag_map(tags, key="Key", value="Value"):
    return {t[key]: t.get(value, "") for t in tags or []}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--region", required=True)
    ap.add_argument("--stack", required=True)
    args = ap.parse_args()

    def client(name):
        return boto3.client(name, endpoint_url=args.endpoint, region_name=args.region)

    found = []

    def add(kind, ident, tags):
        if tags.get(TAG) == args.stack:
            found.append({"type": kind, "id": ident, "iac:name": tags.get("iac:name")})

    ec2 = client("ec2")
    by_tag = [{"Name": f"tag:{TAG}", "Values": [args.stack]}]
    for v in ec2.describe_vpcs(Filters=by_tag)["Vpcs"]:
        add("vpc", v["VpcId"], tag_map(v.get("Tags")))
    for s in ec2.describe_subnets(Filters=by_tag)["Subnets"]:
        add("subnet", s["SubnetId"], tag_map(s.get("Tags")))
    for g in ec2.describe_internet_gateways(Filters=by_tag)["InternetGateways"]:
        add("internet_gateway", g["InternetGatewayId"], tag_map(g.get("Tags")))
    for n in ec2.describe_nat_gateways(Filters=by_tag)["NatGateways"]:
        if n["State"] not in ("deleted", "deleting", "failed"):
            add("nat_gateway", n["NatGatewayId"], tag_map(n.get("Tags")))
    for a in ec2.describe_addresses(Filters=by_tag)["Addresses"]:
        add("eip", a["AllocationId"], tag_map(a.get("Tags")))
    for r in ec2.describe_route_tables(Filters=by_tag)["RouteTables"]:
        add("route_table", r["RouteTableId"], tag_map(r.get("Tags")))
    for g in ec2.describe_security_groups(Filters=by_tag)["SecurityGroups"]:
        add("security_group", g["GroupId"], tag_map(g.get("Tags")))

    elb = client("elbv2")
    lbs = elb.describe_load_balancers()["LoadBalancers"]
    tgs = elb.describe_target_groups()["TargetGroups"]
    arns = [lb["LoadBalancerArn"] for lb in lbs] + [tg["TargetGroupArn"] for tg in tgs]
    for i in range(0, len(arns), 20):
        for d in elb.describe_tags(ResourceArns=arns[i : i + 20])["TagDescriptions"]:
            kind = "load_balancer" if ":loadbalancer/" in d["ResourceArn"] else "target_group"
            add(kind, d["ResourceArn"], tag_map(d.get("Tags")))
    for lb in lbs:
        for li in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]:
            tags = elb.describe_tags(ResourceArns=[li["ListenerArn"]])["TagDescriptions"]
            add("listener", li["ListenerArn"], tag_map(tags[0].get("Tags") if tags else []))

    ecs = client("ecs")
    clusters = ecs.list_clusters()["clusterArns"]
    if clusters:
        described = ecs.describe_clusters(clusters=clusters, include=["TAGS"])["clusters"]
        for c in described:
            if c.get("status") != "ACTIVE":
                continue
            add("ecs_cluster", c["clusterArn"], tag_map(c.get("tags"), "key", "value"))
            services = ecs.list_services(cluster=c["clusterArn"])["serviceArns"]
            if services:
                for s in ecs.describe_services(
                    cluster=c["clusterArn"], services=services, include=["TAGS"]
                )["services"]:
                    if s.get("status") == "ACTIVE":
                        add("ecs_service", s["serviceArn"], tag_map(s.get("tags"), "key", "value"))
    families = {}
    for status in ("ACTIVE", "INACTIVE"):
        for arn in ecs.list_task_definitions(status=status)["taskDefinitionArns"]:
            d = ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
            tags = tag_map(d.get("tags"), "key", "value")
            add("task_definition", arn, tags)
            if tags.get(TAG) == args.stack:
                td = d["taskDefinition"]
                families.setdefault(td["family"], []).append(
                    {"revision": td["revision"], "status": td.get("status", status)}
                )

    iam = client("iam")
    for r in iam.list_roles()["Roles"]:
        tags = iam.list_role_tags(RoleName=r["RoleName"])["Tags"]
        add("iam_role", r["RoleName"], tag_map(tags))

    logs = client("logs")
    for g in logs.describe_log_groups()["logGroups"]:
        tags = logs.list_tags_log_group(logGroupName=g["logGroupName"])["tags"]
        add("log_group", g["logGroupName"], tags)

    ecr = client("ecr")
    for r in ecr.describe_repositories()["repositories"]:
        tags = ecr.list_tags_for_resource(resourceArn=r["repositoryArn"])["tags"]
        add("ecr_repository", r["repositoryName"], tag_map(tags))

    acm = client("acm")
    for c in acm.list_certificates()["CertificateSummaryList"]:
        tags = acm.list_tags_for_certificate(CertificateArn=c["CertificateArn"]).get("Tags")
        add("certificate", c["CertificateArn"], tag_map(tags))

    r53 = client("route53")
    for z in r53.list_hosted_zones()["HostedZones"]:
        zid = z["Id"].split("/")[-1]
        tags = r53.list_tags_for_resource(ResourceType="hostedzone", ResourceId=zid)
        add("hosted_zone", zid, tag_map(tags["ResourceTagSet"].get("Tags")))

    print(json.dumps({"tagged": found, "task_definitions": families}, sort_keys=True))


if __name__ == "__main__":
    main()
