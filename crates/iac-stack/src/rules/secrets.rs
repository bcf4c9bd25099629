//! Secrets in task definitions: values that belong in SSM Parameter Store or Secrets Manager
//! but are written into the stack. A container's `environment` is part of the task definition:
//! iac prints it in every plan, keeps it in the state file, and anyone who can describe the
//! task definition reads it. `secrets:` holds only a reference that the task resolves when it
//! starts, so the value never passes through iac.
//!
//! The diagnostics never repeat a value they suspect to be a secret: messages and labels name
//! the variable only.

use super::{items, key_span, Ctx};
use crate::model::Resource;
use crate::value::Value;
use crate::Diagnostics;

/// Pieces of a variable name that mark a secret, compared in upper case.
const SECRET_MARKERS: [&str; 9] = [
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
    "CREDENTIAL",
];

/// Name endings that say the variable holds where a secret is (or which one), not the secret:
/// `DB_PASSWORD_ARN`, `AWS_ACCESS_KEY_ID`, `TOKEN_FILE`, `SECRET_PATH`, `TOKEN_URL`.
const POINTER_SUFFIXES: [&str; 5] = ["_ARN", "_ID", "_FILE", "_PATH", "_URL"];

pub(crate) fn check(cx: &Ctx, diags: &mut Diagnostics) {
    for td in cx.of_type("aws.task_definition") {
        for (path, c) in items(td, "containers") {
            let name = c.get("name").and_then(|n| cx.known_str(n)).unwrap_or("?");
            plaintext_environment(cx, td, &path, name, c, diags);
            not_a_reference(cx, td, &path, name, c, diags);
        }
    }
}

/// Whether an environment variable called `name` with the literal `value` looks like a secret:
/// a secret-sounding name that does not merely point at one, or any URL with a password in it
/// (`postgres://app:hunter2@db/shop`), whatever the variable is called.
fn looks_secret(name: &str, value: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let named_secret = SECRET_MARKERS.iter().any(|m| upper.contains(m))
        && !POINTER_SUFFIXES.iter().any(|s| upper.ends_with(s));
    named_secret || url_with_password(value)
}

/// `SCHEME://USER:PASSWORD@HOST...` with a non-empty password.
fn url_with_password(value: &str) -> bool {
    let Some((_, rest)) = value.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let Some((userinfo, _host)) = authority.rsplit_once('@') else {
        return false;
    };
    userinfo
        .split_once(':')
        .is_some_and(|(_, password)| !password.is_empty())
}

/// The entries of the container's map `key` whose values are written as plain strings.
fn literal_entries<'v>(c: &'v Value, key: &str) -> impl Iterator<Item = (&'v String, &'v String)> {
    let entries = match c.get(key) {
        Some(Value::Map(m)) => Some(m),
        _ => None,
    };
    entries
        .into_iter()
        .flatten()
        .filter_map(|(var, v)| match v {
            Value::Str(value) => Some((var, value)),
            _ => None,
        })
}

fn plaintext_environment(
    cx: &Ctx,
    td: &Resource,
    path: &str,
    container: &str,
    c: &Value,
    diags: &mut Diagnostics,
) {
    // Vars are substituted already: `${var.db_password}` is a literal here, and ends up in
    // the task definition, the plan and the state all the same. A reference to another
    // resource is left alone: it is an ID or a name, not something written in the stack.
    for (var, value) in literal_entries(c, "environment") {
        if value.is_empty() || !looks_secret(var, value) {
            continue;
        }
        diags.push(
            cx.warning(
                "iac::secrets::plaintext_environment",
                format!(
                    "environment variable `{var}` of container `{container}` in task definition `{}` looks like a secret written into the stack",
                    td.name
                ),
            )
            .label(
                key_span(td, &format!("{path}.environment.{var}")),
                "shown in every plan and kept in the state file",
            )
            .help(format!(
                "move it to `secrets:` as `{var}: arn:aws:ssm:REGION:ACCOUNT:parameter/...` or a Secrets Manager ARN; the task reads it at start and iac never sees the value"
            ))
            .redact(),
        );
    }
}

/// Whether `s` is something ECS resolves from a store: an SSM parameter or Secrets Manager ARN
/// (in any partition: `aws`, `aws-cn`, `aws-us-gov`), or an SSM parameter name with a path,
/// which ECS looks up in the task's region.
fn is_reference(s: &str) -> bool {
    let s = s.trim();
    if s.starts_with('/') && s.len() > 1 {
        return true;
    }
    let mut parts = s.splitn(4, ':');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some("arn"), Some(partition), Some("ssm" | "secretsmanager"))
            if partition == "aws" || partition.starts_with("aws-")
    )
}

fn not_a_reference(
    cx: &Ctx,
    td: &Resource,
    path: &str,
    container: &str,
    c: &Value,
    diags: &mut Diagnostics,
) {
    // References (`${db_secret.arn}`) and templates are resolved at apply: only a literal
    // can be checked, and only a literal can be the secret itself.
    for (var, value) in literal_entries(c, "secrets") {
        if is_reference(value) {
            continue;
        }
        // The value is not repeated anywhere: it may well be the secret.
        diags.push(
            cx.error(
                "iac::secrets::not_a_reference",
                format!(
                    "the value of `secrets.{var}` of container `{container}` in task definition `{}` is not an SSM parameter or Secrets Manager ARN",
                    td.name
                ),
            )
            .label(
                td.span_of(&format!("{path}.secrets.{var}")),
                "expected `arn:aws:ssm:...`, `arn:aws:secretsmanager:...` or `/parameter/name`",
            )
            .help(format!(
                "store the value in SSM Parameter Store or Secrets Manager and write where it is: `{var}: arn:aws:ssm:REGION:ACCOUNT:parameter/NAME` (or `/NAME` in the stack's region) or `arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME`"
            ))
            .redact(),
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value as J};

    use super::{is_reference, looks_secret};
    use crate::rules::testkit::{merge, Kit};

    /// A task definition `web` with one container `app` carrying `extra` fields.
    fn kit(extra: J) -> Kit {
        let c = merge(json!({"name": "app", "image": "nginx"}), &extra);
        let mut k = Kit::new("sec");
        k.add("logs", "aws.log_group", json!({}));
        k.add(
            "web",
            "aws.task_definition",
            json!({"cpu": 256, "memory": 512, "containers": [c]}),
        );
        k
    }

    #[test]
    fn secret_names() {
        for (name, value, secret) in [
            ("DB_PASSWORD", "hunter2", true),
            ("db_passwd", "hunter2", true),
            ("SECRET_KEY_BASE", "abc", true),
            ("GITHUB_TOKEN", "ghp_x", true),
            ("STRIPE_API_KEY", "sk_live", true),
            ("MAPS_APIKEY", "k", true),
            ("JWT_PRIVATE_KEY", "-----BEGIN", true),
            ("AWS_SECRET_ACCESS_KEY", "x", true),
            ("GOOGLE_CREDENTIALS", "{}", true),
            // Pointers to a secret, not the secret.
            (
                "DB_PASSWORD_ARN",
                "arn:aws:ssm:us-east-1:1:parameter/x",
                false,
            ),
            ("AWS_ACCESS_KEY_ID", "AKIA", false),
            ("TOKEN_FILE", "/run/token", false),
            ("SECRET_PATH", "/etc/secret", false),
            ("TOKEN_URL", "https://auth.example.com/token", false),
            ("PORT", "8080", false),
            ("LOG_LEVEL", "info", false),
            // A password inside a URL, whatever the name.
            ("DATABASE_URL", "postgres://app:hunter2@db:5432/shop", true),
            ("TOKEN_URL", "https://u:p@auth.example.com/token", true),
            ("DATABASE_URL", "postgres://app@db:5432/shop", false),
            ("DATABASE_URL", "postgres://db:5432/shop?user=a@b", false),
        ] {
            assert_eq!(looks_secret(name, value), secret, "{name}={value}");
        }
    }

    #[test]
    fn literal_secret_in_environment_warns_without_the_value() {
        let k = kit(json!({"environment": {"DB_PASSWORD": "hunter2", "LOG_LEVEL": "info"}}));
        let d = k.one("iac::secrets::plaintext_environment");
        assert!(!d.is_error());
        assert_eq!(
            k.labels(&d),
            ["web:containers[0].environment.DB_PASSWORD:key"]
        );
        assert!(d.message.contains("`DB_PASSWORD`"), "{}", d.message);
        assert!(d.message.contains("container `app`"), "{}", d.message);
        let help = d.help.clone().unwrap();
        assert!(
            help.starts_with("move it to `secrets:` as `DB_PASSWORD: arn:aws:ssm:"),
            "{help}"
        );
        let shown = format!("{} {help} {:?}", d.message, d.labels);
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn empty_values_and_references_in_environment_pass() {
        let k = kit(
            json!({"environment": {"DB_PASSWORD": "", "API_TOKEN": "${logs.arn}",
                                            "SECRET_NOTE": "x-${logs.name}"}}),
        );
        assert!(k.codes().is_empty(), "{:?}", k.codes());
    }

    #[test]
    fn references_to_stores() {
        for (s, ok) in [
            ("arn:aws:ssm:us-east-1:123456789012:parameter/shop/db", true),
            (
                "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf",
                true,
            ),
            ("arn:aws-us-gov:ssm:us-gov-west-1:1:parameter/x", true),
            ("arn:aws-cn:secretsmanager:cn-north-1:1:secret:x", true),
            ("/shop/prod/db_password", true),
            ("hunter2", false),
            ("/", false),
            ("", false),
            ("arn:aws:s3:::bucket/key", false),
            ("arn:aws:iam::1:role/x", false),
            ("arnold:aws:ssm", false),
        ] {
            assert_eq!(is_reference(s), ok, "{s:?}");
        }
    }

    #[test]
    fn literal_secret_in_secrets_is_an_error_without_the_value() {
        let k = kit(json!({"secrets": {
            "DB_PASSWORD": "hunter2",
            "API_KEY": "arn:aws:secretsmanager:us-east-1:123456789012:secret:api-AbCdEf",
            "TOKEN": "/shop/token",
            "OTHER": "${logs.arn}",
        }}));
        let d = k.one("iac::secrets::not_a_reference");
        assert!(d.is_error());
        assert_eq!(k.labels(&d), ["web:containers[0].secrets.DB_PASSWORD"]);
        assert!(
            d.message.starts_with(
                "the value of `secrets.DB_PASSWORD` of container `app` in task definition `web` is not"
            ),
            "{}",
            d.message
        );
        let shown = format!("{} {:?} {:?}", d.message, d.help, d.labels);
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
