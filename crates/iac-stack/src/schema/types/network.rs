//! The network: the VPC, its subnets, gateways and route tables, and security groups.

use super::*;

/// A security group rule: `ingress` and `egress` entries.
const SG_RULE: &[Prop] = &[
    req(
        "protocol",
        Kind::Enum(&["tcp", "udp", "icmp", "all"]),
        "IP protocol; `all` also means all ports",
    ),
    opt(
        "port",
        Kind::Port,
        "A single port (for `icmp`: the ICMP type); give `port` or `ports` for `tcp` and `udp`",
    ),
    opt(
        "ports",
        Kind::Str,
        "A port range written `FROM-TO`, e.g. `\"8000-8099\"`",
    ),
    opt(
        "cidr",
        Kind::Cidr,
        "The peer as an IPv4 or IPv6 CIDR block, e.g. `0.0.0.0/0` or `::/0`; exactly one of `cidr` and `source`",
    ),
    opt(
        "source",
        id("aws.security_group", "id"),
        "The peer as another security group (`${alb_sg.id}`), or `self`: the group itself, so its members may reach each other (addition; no dependency on itself). Exactly one of `cidr` and `source`",
    ),
    opt(
        "description",
        Kind::Str,
        "Why the rule exists, shown in the console",
    ),
];

/// An entry of a route table's `routes`.
const ROUTE: &[Prop] = &[
    req(
        "destination",
        Kind::Cidr,
        "The destination CIDR block, e.g. `0.0.0.0/0` for the default route",
    ),
    opt(
        "gateway",
        id("aws.internet_gateway", "id"),
        "Send the traffic to this internet gateway; exactly one of `gateway` and `nat_gateway`",
    ),
    opt(
        "nat_gateway",
        id("aws.nat_gateway", "id"),
        "Send the traffic to this NAT gateway; exactly one of `gateway` and `nat_gateway`",
    ),
];

pub(super) const VPC: TypeSchema = TypeSchema {
    name: "aws.vpc",
    doc: "A virtual private network: the address space every other network resource lives in",
    props: &[
        rep(req(
            "cidr",
            Kind::Cidr,
            "IPv4 address range of the VPC, e.g. `10.0.0.0/16` (a /16 to /28 block)",
        )),
        def(
            "dns_hostnames",
            Kind::Bool,
            DefaultValue::Bool(true),
            "Give instances with public IPs public DNS names",
        ),
        def(
            "dns_support",
            Kind::Bool,
            DefaultValue::Bool(true),
            "Resolve DNS through the Amazon resolver; needed for ECR pulls and private zones",
        ),
        TAGS,
    ],
    attrs: &[
        attr("id", AttrKind::Str, "VPC id, e.g. `vpc-0abc...`"),
        attr("cidr", AttrKind::Str, "The VPC's CIDR block"),
    ],
    ..PLAIN
};

pub(super) const SUBNET: TypeSchema = TypeSchema {
    name: "aws.subnet",
    doc: "A range of the VPC's addresses in one availability zone",
    props: &[
        rep(req(
            "vpc",
            id("aws.vpc", "id"),
            "VPC the subnet belongs to",
        )),
        rep(req(
            "cidr",
            Kind::Cidr,
            "IPv4 range inside the VPC's, e.g. `10.0.1.0/24`",
        )),
        rep(req(
            "az",
            Kind::Str,
            "Availability zone, e.g. `${region}a`",
        )),
        def(
            "public",
            Kind::Bool,
            DefaultValue::Bool(false),
            "Map a public IP to instances launched here (a public subnet still needs a route to an internet gateway)",
        ),
        TAGS,
    ],
    attrs: &[
        attr("id", AttrKind::Str, "Subnet id, e.g. `subnet-0abc...`"),
        attr("az", AttrKind::Str, "The subnet's availability zone"),
        attr("cidr", AttrKind::Str, "The subnet's CIDR block"),
    ],
    ..PLAIN
};

pub(super) const INTERNET_GATEWAY: TypeSchema = TypeSchema {
    name: "aws.internet_gateway",
    doc: "The VPC's door to the internet, for public subnets",
    props: &[
        req(
            "vpc",
            id("aws.vpc", "id"),
            "VPC the gateway is attached to; a change detaches it and attaches it to the new one",
        ),
        TAGS,
    ],
    attrs: &[attr(
        "id",
        AttrKind::Str,
        "Internet gateway id, e.g. `igw-0abc...`",
    )],
    ..PLAIN
};

pub(super) const EIP: TypeSchema = TypeSchema {
    name: "aws.eip",
    doc: "An elastic (static public) IPv4 address, e.g. for a NAT gateway; billed while it exists",
    props: &[TAGS],
    attrs: &[
        attr(
            "id",
            AttrKind::Str,
            "Allocation id, e.g. `eipalloc-0abc...`",
        ),
        attr("public_ip", AttrKind::Str, "The public IPv4 address"),
    ],
    ..PLAIN
};

pub(super) const NAT_GATEWAY: TypeSchema = TypeSchema {
    name: "aws.nat_gateway",
    doc: "Outbound internet access for private subnets; billed per hour and per GB",
    props: &[
        rep(req(
            "subnet",
            id("aws.subnet", "id"),
            "Public subnet the gateway lives in",
        )),
        rep(req(
            "eip",
            id("aws.eip", "id"),
            "Elastic IP allocation the gateway sends traffic from",
        )),
        TAGS,
    ],
    attrs: &[attr(
        "id",
        AttrKind::Str,
        "NAT gateway id, e.g. `nat-0abc...`",
    )],
    ..PLAIN
};

pub(super) const ROUTE_TABLE: TypeSchema = TypeSchema {
    name: "aws.route_table",
    doc: "Routes for the subnets associated with it",
    props: &[
        rep(req(
            "vpc",
            id("aws.vpc", "id"),
            "VPC the route table belongs to",
        )),
        opt(
            "routes",
            Kind::ListOf(&Kind::Object(ROUTE)),
            "Routes besides the VPC's local one; the list is exact",
        ),
        opt(
            "subnets",
            Kind::ListOf(&id("aws.subnet", "id")),
            "Subnets that use this table (associations)",
        ),
        TAGS,
    ],
    attrs: &[attr(
        "id",
        AttrKind::Str,
        "Route table id, e.g. `rtb-0abc...`",
    )],
    ..PLAIN
};

pub(super) const SECURITY_GROUP: TypeSchema = TypeSchema {
    name: "aws.security_group",
    doc: "A stateful firewall around network interfaces (load balancers, tasks)",
    props: &[
        rep(req("vpc", id("aws.vpc", "id"), "VPC the group belongs to")),
        rep(def(
            "description",
            Kind::Str,
            DefaultValue::Str("Managed by iac"),
            "What the group is for (AWS requires one; it cannot change without a new group)",
        )),
        opt(
            "ingress",
            Kind::ListOf(&Kind::Object(SG_RULE)),
            "Inbound rules; omitted or empty admits nothing",
        ),
        opt(
            "egress",
            Kind::ListOf(&Kind::Object(SG_RULE)),
            "Outbound rules; omitted allows all outbound traffic, a given list is exact",
        ),
        TAGS,
    ],
    attrs: &[attr(
        "id",
        AttrKind::Str,
        "Security group id, e.g. `sg-0abc...`",
    )],
    ..PLAIN
};
