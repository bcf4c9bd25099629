//! What the id of an existing object looks like, per type, for `iac import` and the
//! `import:` key: checked here without any call to AWS, so `subnet-0abc` given for an
//! `aws.vpc` is an error before anything is read.
//!
//! The forms are the ones the AWS console shows: an EC2 id (`vpc-0abc…`), an ARN, a name,
//! a hosted zone id, `ZONE_ID/NAME/TYPE` for a DNS record. The provider turns an accepted
//! form into the object's physical id when it reads it.

/// The id forms of one type.
#[derive(Debug)]
pub struct ImportId {
    pub rtype: &'static str,
    /// The accepted forms, as docs and errors list them.
    pub forms: &'static str,
    /// One accepted id, for the help line.
    pub example: &'static str,
    check: fn(&str) -> bool,
    /// True when the forms single the type out (an EC2 prefix, an ARN): an id of another
    /// type in such a form is named as that type's in the error.
    distinctive: bool,
}

impl ImportId {
    /// True when `id` has one of the accepted forms.
    pub fn accepts(&self, id: &str) -> bool {
        (self.check)(id)
    }
}

/// `PREFIX-` followed by lowercase hex digits (EC2 gives 8 or 17; any count up to 17 is
/// taken, the prefix is what tells the types apart).
fn ec2(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|hex| {
            (1..=17).contains(&hex.len())
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` with `RESOURCE` starting with
/// `resource` (and something after it).
fn arn(id: &str, service: &str, resource: &str) -> bool {
    let parts: Vec<&str> = id.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == service
        && parts[5].len() > resource.len()
        && parts[5].starts_with(resource)
}

fn named(id: &str, max: usize, ok: fn(char) -> bool) -> bool {
    !id.is_empty() && id.len() <= max && !id.starts_with("arn:") && id.chars().all(ok)
}

fn hosted_zone(id: &str) -> bool {
    let bare = id.strip_prefix("/hostedzone/").unwrap_or(id);
    // AWS's ids start with `Z`; the emulator's do not, and nothing else has this form.
    (2..=32).contains(&bare.len())
        && bare
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// `ZONE_ID/NAME/TYPE` (the name may hold no `/`).
fn dns_record(id: &str) -> bool {
    let parts: Vec<&str> = id.split('/').collect();
    parts.len() == 3
        && hosted_zone(parts[0])
        && !parts[1].is_empty()
        && !parts[2].is_empty()
        && parts[2].chars().all(|c| c.is_ascii_uppercase())
}

fn log_group_name(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._-/#".contains(c)
}

fn ecr_name(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(c)
}

fn role_name(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)
}

fn ecs_name(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-".contains(c)
}

/// `FAMILY`, `FAMILY:REVISION` or the task definition ARN.
fn task_definition(id: &str) -> bool {
    if arn(id, "ecs", "task-definition/") {
        return true;
    }
    let (family, revision) = id.split_once(':').unwrap_or((id, "1"));
    named(family, 255, ecs_name)
        && !revision.is_empty()
        && revision.bytes().all(|b| b.is_ascii_digit())
}

/// `CLUSTER/SERVICE` or the service ARN.
fn ecs_service(id: &str) -> bool {
    arn(id, "ecs", "service/")
        || id
            .split_once('/')
            .is_some_and(|(c, s)| named(c, 255, ecs_name) && named(s, 255, ecs_name))
}

static IDS: &[ImportId] = &[
    ImportId {
        rtype: "aws.ssm_parameter",
        forms: "the parameter's name (or its ARN)",
        example: "/aws/service/aws-for-fluent-bit/stable",
        check: |id| arn(id, "ssm", "parameter/") || named(id, 2048, |c| c.is_ascii_alphanumeric() || "_.-/".contains(c)),
        distinctive: false,
    },
    ImportId {
        rtype: "aws.vpc",
        forms: "the VPC id, `vpc-…`",
        example: "vpc-0a1b2c3d4e5f60718",
        check: |id| ec2(id, "vpc"),
        distinctive: true,
    },
    ImportId {
        rtype: "aws.subnet",
        forms: "the subnet id, `subnet-…`",
        example: "subnet-0a1b2c3d4e5f60718",
        check: |id| ec2(id, "subnet"),
        distinctive: true,
    },
    ImportId {
        rtype: "aws.internet_gateway",
        forms: "the internet gateway id, `igw-…`",
        example: "igw-0a1b2c3d4e5f60718",
        check: |id| ec2(id, "igw"),
        distinctive: true,
    },
    ImportId {
        rtype: "aws.eip",
        forms: "the allocation id, `eipalloc-…`",
        example: "eipalloc-0a1b2c3d4e5f60718",
        check: |id| ec2(id, "eipalloc"),
        distinctive: true,
    },
    ImportId {
        rtype: "aws.nat_gateway",
        forms: "the NAT gateway id, `nat-…`",
        example: "nat-0a1b2c3d4e5f60718",
        check: |id| ec2(id, "nat"),
        distinctive: true,
    },
    ImportId {
        rtype: "aws.route_table",
        forms: "the route table id, `rtb-…`",
        example: "rtb-0a1b2c3d4e5f60718",
        check: |id| ec2(id, "rtb"),
        distinctive: true,
    },
    ImportId {
        rtype: "aws.security_group",
        forms: "the security group id, `sg-…`",
        example: "sg-0a1b2c3d4e5f60718",
        check: |id| ec2(id, "sg"),
        distinctive: true,
    },
    ImportId {
        rtype: "aws.load_balancer",
        forms: "the load balancer ARN",
        example: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188",
        check: |id| arn(id, "elasticloadbalancing", "loadbalancer/app/"),
        distinctive: true,
    },
    ImportId {
        rtype: "aws.target_group",
        forms: "the target group ARN",
        example: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/73e2d6bc24d8a067",
        check: |id| arn(id, "elasticloadbalancing", "targetgroup/"),
        distinctive: true,
    },
    ImportId {
        rtype: "aws.listener",
        forms: "the listener ARN",
        example: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2",
        check: |id| arn(id, "elasticloadbalancing", "listener/app/"),
        distinctive: true,
    },
    ImportId {
        rtype: "aws.listener_rule",
        forms: "the listener rule ARN",
        example: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee",
        check: |id| arn(id, "elasticloadbalancing", "listener-rule/app/"),
        distinctive: true,
    },
    ImportId {
        rtype: "aws.certificate",
        forms: "the certificate ARN",
        example: "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012",
        check: |id| arn(id, "acm", "certificate/"),
        distinctive: true,
    },
    ImportId {
        rtype: "aws.hosted_zone",
        forms: "the hosted zone id, `Z…` (or `/hostedzone/Z…`): upper-case letters and digits",
        example: "Z0123456789ABCDEFGHIJ",
        check: hosted_zone,
        distinctive: false,
    },
    ImportId {
        rtype: "aws.dns_record",
        forms: "`ZONE_ID/NAME/TYPE`, e.g. the zone id, the record's name and its type",
        example: "Z0123456789ABCDEFGHIJ/app.example.com/A",
        check: dns_record,
        distinctive: true,
    },
    ImportId {
        rtype: "aws.log_group",
        forms: "the log group name (or its ARN)",
        example: "/ecs/web",
        check: |id| arn(id, "logs", "log-group:") || named(id, 512, log_group_name),
        distinctive: false,
    },
    ImportId {
        rtype: "aws.ecr_repository",
        forms: "the repository name (or its ARN)",
        example: "web",
        check: |id| arn(id, "ecr", "repository/") || named(id, 256, ecr_name),
        distinctive: false,
    },
    ImportId {
        rtype: "aws.iam_role",
        forms: "the role name (or its ARN)",
        example: "web-task-execution",
        check: |id| arn(id, "iam", "role/") || named(id, 64, role_name),
        distinctive: false,
    },
    ImportId {
        rtype: "aws.ecs_cluster",
        forms: "the cluster name (or its ARN)",
        example: "web",
        check: |id| arn(id, "ecs", "cluster/") || named(id, 255, ecs_name),
        distinctive: false,
    },
    ImportId {
        rtype: "aws.service_discovery_namespace",
        forms: "the namespace id, `ns-…`",
        example: "ns-abcdefghijklmnop",
        check: |id| {
            id.strip_prefix("ns-").is_some_and(|rest| {
                !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric())
            })
        },
        distinctive: true,
    },
    ImportId {
        rtype: "aws.instance_profile",
        forms: "the instance profile name (or its ARN)",
        example: "web-ecs-instances",
        check: |id| arn(id, "iam", "instance-profile/") || named(id, 128, role_name),
        distinctive: false,
    },
    ImportId {
        rtype: "aws.launch_template",
        forms: "the launch template id, `lt-…`",
        example: "lt-0123456789abcdef0",
        check: |id| {
            id.strip_prefix("lt-")
                .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
        },
        distinctive: true,
    },
    ImportId {
        rtype: "aws.autoscaling_group",
        forms: "the group name (or its ARN)",
        example: "web-ecs",
        check: |id| arn(id, "autoscaling", "autoScalingGroup:") || named(id, 255, |c| c != ':'),
        distinctive: false,
    },
    ImportId {
        rtype: "aws.capacity_provider",
        forms: "the capacity provider name (or its ARN)",
        example: "web-ec2",
        check: |id| arn(id, "ecs", "capacity-provider/") || named(id, 255, ecs_name),
        distinctive: false,
    },
    ImportId {
        rtype: "aws.ecs_service",
        forms: "`CLUSTER/SERVICE` (or the service ARN)",
        example: "web/api",
        check: ecs_service,
        distinctive: false,
    },
    ImportId {
        rtype: "aws.task_definition",
        forms: "the family, `FAMILY:REVISION`, or the task definition ARN (the family alone means its newest active revision)",
        example: "web:3",
        check: task_definition,
        distinctive: false,
    },
];

/// The id forms of `rtype`, or `None` for a type this table does not know (a test type).
pub fn import_id(rtype: &str) -> Option<&'static ImportId> {
    IDS.iter().find(|i| i.rtype == rtype)
}

/// Why `id` cannot be the id of an object of type `rtype`, or `Ok` when its form fits
/// (whether the object exists is for the provider to say). Types this table does not
/// know accept any non-empty id.
pub fn check_import_id(rtype: &str, id: &str) -> Result<(), ImportIdError> {
    if id.trim().is_empty() {
        return Err(ImportIdError {
            message: format!("an empty id cannot name an `{rtype}`"),
            help: import_id(rtype).map(help_of).unwrap_or_default(),
        });
    }
    let Some(want) = import_id(rtype) else {
        return Ok(());
    };
    if want.accepts(id) {
        return Ok(());
    }
    let other = IDS
        .iter()
        .find(|i| i.rtype != rtype && i.distinctive && i.accepts(id));
    let message = match other {
        Some(o) => format!("`{id}` is the id of an `{}`, not of an `{rtype}`", o.rtype),
        None => format!("`{id}` is not an id of an `{rtype}`"),
    };
    Err(ImportIdError {
        message,
        help: help_of(want),
    })
}

fn help_of(want: &ImportId) -> String {
    format!(
        "an `{}` is imported by {}, e.g. `{}`",
        want.rtype, want.forms, want.example
    )
}

/// An id whose form does not fit the type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportIdError {
    pub message: String,
    pub help: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_id_forms_and_its_example_fits() {
        for t in super::super::TYPES
            .iter()
            .filter(|t| t.name.starts_with("aws."))
        {
            let want = import_id(t.name).unwrap_or_else(|| panic!("{} has no import id", t.name));
            assert!(want.accepts(want.example), "{}: {}", t.name, want.example);
            assert_eq!(check_import_id(t.name, want.example), Ok(()));
        }
        let aws = super::super::TYPES
            .iter()
            .filter(|t| t.name.starts_with("aws."));
        assert_eq!(IDS.len(), aws.count());
    }

    #[test]
    fn an_id_of_another_type_is_named_as_such() {
        let e = check_import_id("aws.vpc", "subnet-0a1b2c3d").unwrap_err();
        assert_eq!(
            e.message,
            "`subnet-0a1b2c3d` is the id of an `aws.subnet`, not of an `aws.vpc`"
        );
        assert!(e.help.contains("vpc-"), "{}", e.help);
        let e = check_import_id(
            "aws.target_group",
            "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/web/5",
        )
        .unwrap_err();
        assert!(e.message.contains("`aws.load_balancer`"), "{}", e.message);
        // A name-like type takes anything name-like: `vpc-1` may be a log group's name.
        assert_eq!(check_import_id("aws.log_group", "vpc-0a1b2c3d"), Ok(()));
        assert!(check_import_id("aws.log_group", "arn:aws:ec2:eu-west-1:1:vpc/vpc-1").is_err());
    }

    #[test]
    fn forms_are_checked_strictly() {
        assert!(check_import_id("aws.vpc", "vpc-XYZ").is_err());
        assert!(check_import_id("aws.vpc", "vpc-").is_err());
        assert!(check_import_id("aws.vpc", "vpc-0a1b2c3d4e5f607181").is_err());
        assert!(check_import_id("aws.vpc", "").is_err());
        assert_eq!(
            check_import_id("aws.hosted_zone", "/hostedzone/Z123ABC"),
            Ok(())
        );
        assert!(check_import_id("aws.hosted_zone", "z123").is_err());
        assert!(check_import_id("aws.hosted_zone", "vpc-0a1b2c3d").is_err());
        assert_eq!(
            check_import_id("aws.dns_record", "Z123ABC/app.example.com/A"),
            Ok(())
        );
        assert!(check_import_id("aws.dns_record", "Z123ABC/app.example.com").is_err());
        assert_eq!(check_import_id("aws.task_definition", "web"), Ok(()));
        assert_eq!(check_import_id("aws.task_definition", "web:12"), Ok(()));
        assert!(check_import_id("aws.task_definition", "web:latest").is_err());
        assert_eq!(check_import_id("aws.ecs_service", "main/api"), Ok(()));
        assert!(check_import_id("aws.ecs_service", "api").is_err());
        assert_eq!(
            check_import_id("aws.iam_role", "arn:aws:iam::123456789012:role/service/web"),
            Ok(())
        );
        assert_eq!(check_import_id("test.anything", "x"), Ok(()));
    }
}
