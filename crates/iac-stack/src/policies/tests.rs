use serde_json::{json, Value as Json};

use crate::{load_str, LoadOptions};

const HEAD: &str = "stack: shop\nregion: us-east-1\nresources:\n";

fn policies_of(yaml: &str, role: &str) -> Json {
    let loaded = load_str("t.yaml", &format!("{HEAD}{yaml}"), &LoadOptions::default())
        .unwrap_or_else(|d| panic!("{d:?}"));
    serde_json::to_value(
        loaded.stack.resources[role]
            .prop("policies")
            .cloned()
            .unwrap_or_default(),
    )
    .unwrap()
}

const ROLES: &str = "  exec:\n    type: aws.iam_role\n    assumed_by: ecs-tasks.amazonaws.com\n\
\x20 app:\n    type: aws.iam_role\n    assumed_by: ecs-tasks.amazonaws.com\n";

#[test]
fn the_execution_role_gets_exactly_the_secrets_it_reads() {
    let yaml = format!(
        "{ROLES}  param:\n    type: aws.ssm_parameter\n    existing: true\n    name: /shop/key\n\
\x20 task:\n    type: aws.task_definition\n    cpu: 256\n    memory: 512\n    execution_role: ${{exec.arn}}\n    task_role: ${{app.arn}}\n    containers:\n      - name: web\n        image: nginx\n        secrets:\n          DB: \"arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf:password::\"\n          TOKEN: arn:aws:ssm:us-east-1:123456789012:parameter/shop/token\n          KEY: ${{param.arn}}\n          DB2: arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf\n"
    );
    assert_eq!(
        policies_of(&yaml, "exec"),
        json!([
            {"sid": "IacSecretsManager", "effect": "Allow",
             "actions": ["secretsmanager:GetSecretValue"],
             "resources": ["arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"]},
            {"sid": "IacSsmParameters", "effect": "Allow",
             "actions": ["ssm:GetParameters"],
             "resources": ["arn:aws:ssm:us-east-1:123456789012:parameter/shop/token", {"$ref": "param.arn"}]},
        ])
    );
    // The task role reads nothing at start: it gets nothing.
    assert_eq!(policies_of(&yaml, "app"), Json::Null);
}

#[test]
fn what_the_role_grants_already_is_not_added_again() {
    let yaml = "  exec:\n    type: aws.iam_role\n    assumed_by: ecs-tasks.amazonaws.com\n    policies:\n      - actions: [\"ssm:*\"]\n        resources: [\"*\"]\n      - actions: [secretsmanager:GetSecretValue]\n        resources: [arn:aws:secretsmanager:us-east-1:1:secret:a]\n\
\x20 task:\n    type: aws.task_definition\n    cpu: 256\n    memory: 512\n    execution_role: ${exec.arn}\n    containers:\n      - name: web\n        image: nginx\n        secrets:\n          A: arn:aws:secretsmanager:us-east-1:1:secret:a\n          B: arn:aws:secretsmanager:us-east-1:1:secret:b\n          C: arn:aws:ssm:us-east-1:1:parameter/c\n";
    let p = policies_of(yaml, "exec");
    let list = p.as_array().unwrap();
    assert_eq!(list.len(), 3, "{p}");
    assert_eq!(
        list[2],
        json!({"sid": "IacSecretsManager", "effect": "Allow",
               "actions": ["secretsmanager:GetSecretValue"],
               "resources": ["arn:aws:secretsmanager:us-east-1:1:secret:b"]})
    );
}

#[test]
fn ecs_exec_adds_the_ssmmessages_actions_to_the_task_role() {
    let yaml = format!(
        "{ROLES}  cluster:\n    type: aws.ecs_cluster\n\
\x20 task:\n    type: aws.task_definition\n    cpu: 256\n    memory: 512\n    execution_role: ${{exec.arn}}\n    task_role: ${{app.arn}}\n    containers:\n      - name: web\n        image: nginx\n\
\x20 web:\n    type: aws.ecs_service\n    cluster: ${{cluster.arn}}\n    task_definition: ${{task.arn}}\n    desired_count: 1\n    subnets: [subnet-1]\n    enable_execute_command: true\n"
    );
    assert_eq!(
        policies_of(&yaml, "app"),
        json!([{"sid": "IacEcsExec", "effect": "Allow",
                "actions": ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                            "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
                "resources": ["*"]}])
    );
    assert_eq!(policies_of(&yaml, "exec"), Json::Null);
}

#[test]
fn roles_that_are_not_the_stacks_get_nothing() {
    // A role looked up (`existing: true`) and a role ARN written out are not iac's to change.
    let yaml = "  exec:\n    type: aws.iam_role\n    existing: true\n    name: shared-exec\n\
\x20 task:\n    type: aws.task_definition\n    cpu: 256\n    memory: 512\n    execution_role: ${exec.arn}\n    task_role: arn:aws:iam::1:role/app\n    containers:\n      - name: web\n        image: nginx\n        secrets:\n          A: arn:aws:secretsmanager:us-east-1:1:secret:a\n";
    assert_eq!(policies_of(yaml, "exec"), Json::Null);
}
