use super::*;

#[test]
fn stack_rules_parse_to_aws_ports_and_back() {
    let cases = [
        (
            json!({"protocol": "tcp", "port": 443, "cidr": "0.0.0.0/0"}),
            ("tcp", 443, 443),
        ),
        (
            json!({"protocol": "udp", "ports": "8000-8099", "source": "sg-1"}),
            ("udp", 8000, 8099),
        ),
        (
            json!({"protocol": "all", "cidr": "10.0.0.0/8"}),
            ("-1", -1, -1),
        ),
        (
            json!({"protocol": "icmp", "port": 8, "cidr": "::/0"}),
            ("icmp", 8, -1),
        ),
        (
            json!({"protocol": "icmp", "cidr": "::/0", "description": "ping"}),
            ("icmp", -1, -1),
        ),
    ];
    for (input, (protocol, from, to)) in cases {
        let rule = parse_rule(&input, false).unwrap();
        assert_eq!(
            (rule.allow.protocol.as_str(), rule.allow.from, rule.allow.to),
            (protocol, from, to),
            "{input}"
        );
        assert_eq!(rule_json(&rule), input);
    }
}

#[test]
fn a_self_rule_names_the_group_itself_and_reads_back_as_self() {
    let input = json!({"protocol": "tcp", "port": 5432, "source": "self"});
    let rule = parse_rule(&input, false).unwrap();
    assert_eq!(rule.allow.peer, Peer::Own);
    assert_eq!(rule_json(&rule), input);
    let perm = permission(&rule, "sg-own");
    let pairs = perm.user_id_group_pairs();
    assert_eq!(pairs.len(), 1);
    assert_eq!(pairs[0].group_id(), Some("sg-own"));
    // A live rule naming the group's own id is `self`; another group stays itself.
    assert_eq!(group_peer("sg-own", "sg-own"), Peer::Own);
    assert_eq!(group_peer("sg-x", "sg-own"), Peer::Group("sg-x".into()));
    let live = Ec2Group::builder()
        .group_id("sg-own")
        .ip_permissions(perm)
        .build();
    assert_eq!(live_rules(&live)[0], rule);
}

#[test]
fn a_rule_needs_exactly_one_peer() {
    for bad in [
        json!({"protocol": "tcp", "port": 80}),
        json!({"protocol": "tcp", "port": 80, "cidr": "0.0.0.0/0", "source": "sg-1"}),
        json!({"protocol": "tcp", "ports": "80", "cidr": "0.0.0.0/0"}),
    ] {
        let err = parse_rule(&bad, true).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Fatal);
        assert!(err.message.contains("aws.security_group"), "{err}");
    }
}

#[test]
fn omitted_egress_means_the_default_rule_and_a_given_list_is_exact() {
    let omitted = wanted_rules(&json!({"ingress": []})).unwrap();
    assert_eq!(omitted, vec![default_egress()]);
    let given = wanted_rules(&json!({
        "egress": [{"protocol": "tcp", "port": 443, "cidr": "0.0.0.0/0"}]
    }))
    .unwrap();
    assert_eq!(given.len(), 1);
    assert!(given[0].allow.egress && given[0].allow.from == 443);
    assert!(wanted_rules(&json!({"egress": []})).unwrap().is_empty());
}
