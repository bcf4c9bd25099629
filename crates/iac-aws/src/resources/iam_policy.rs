//! The `policies` of `aws.iam_role`: the role's own statements, sent as one inline policy
//! named [`POLICY_NAME`] (`PutRolePolicy`), read back with `GetRolePolicy` (IAM returns the
//! document URL-encoded), and deleted with `DeleteRolePolicy` when the list becomes empty.
//!
//! The document is built in the stack's order and read back into the stack's shape: `Sid`,
//! `Effect`, `Action`, `Resource` and `Condition` become `sid`, `effect`, `actions`,
//! `resources` and `conditions`; a single string where IAM allows one (`"Action": "s3:*"`)
//! reads as a one-element list, so an unchanged stack plans clean whether IAM kept the list
//! or not. Inline policies with other names are not iac's and are left alone (a role's
//! delete still removes them, as IAM requires).

use iac_engine::provider::{ErrorKind, ProviderError};
use serde_json::{json, Map, Value as Json};

use super::common::{absent_is_none, gone_is_ok};
use super::Cx;
use crate::Service;

/// The name of the inline policy holding a role's `policies`.
pub(crate) const POLICY_NAME: &str = "iac";

/// The policy document of `policies` (the stack's statements); `None` when there are none.
pub(crate) fn document(policies: Option<&Json>) -> Option<String> {
    let list = policies
        .and_then(Json::as_array)
        .filter(|l| !l.is_empty())?;
    let statements: Vec<Json> = list
        .iter()
        .map(|st| {
            let mut m = Map::new();
            if let Some(sid) = st.get("sid").and_then(Json::as_str) {
                m.insert("Sid".into(), json!(sid));
            }
            m.insert(
                "Effect".into(),
                st.get("effect").cloned().unwrap_or_else(|| json!("Allow")),
            );
            m.insert(
                "Action".into(),
                st.get("actions").cloned().unwrap_or(json!([])),
            );
            m.insert(
                "Resource".into(),
                st.get("resources").cloned().unwrap_or(json!([])),
            );
            if let Some(c) = st
                .get("conditions")
                .filter(|c| c.as_object().is_some_and(|c| !c.is_empty()))
            {
                m.insert("Condition".into(), c.clone());
            }
            Json::Object(m)
        })
        .collect();
    Some(json!({"Version": "2012-10-17", "Statement": statements}).to_string())
}

/// A document as IAM returns it (URL-encoded or not) in the stack's shape.
pub(crate) fn statements(document: &str) -> Option<Json> {
    let doc: Json = serde_json::from_str(document)
        .or_else(|_| serde_json::from_str(&super::iam_role::percent_decode(document)))
        .ok()?;
    let list = match doc.get("Statement")? {
        Json::Array(a) => a.clone(),
        one => vec![one.clone()],
    };
    let as_list = |v: Option<&Json>| match v {
        Some(Json::Array(a)) => Json::Array(a.clone()),
        Some(Json::String(s)) => json!([s]),
        _ => json!([]),
    };
    Some(Json::Array(
        list.iter()
            .map(|st| {
                let mut m = Map::new();
                if let Some(sid) = st.get("Sid").and_then(Json::as_str) {
                    m.insert("sid".into(), json!(sid));
                }
                m.insert(
                    "effect".into(),
                    st.get("Effect").cloned().unwrap_or_else(|| json!("Allow")),
                );
                m.insert("actions".into(), as_list(st.get("Action")));
                m.insert("resources".into(), as_list(st.get("Resource")));
                if let Some(c) = st.get("Condition").filter(|c| c.is_object()) {
                    m.insert("conditions".into(), c.clone());
                }
                Json::Object(m)
            })
            .collect(),
    ))
}

/// Refused for want of permissions (IAM's code is `AccessDenied`).
pub(crate) fn denied(e: &ProviderError) -> bool {
    matches!(e.code(), Some("AccessDenied" | "AccessDeniedException"))
}

/// The role's `policies` as IAM has them: `[]` when it has no inline policy of iac's.
pub(crate) async fn read(cx: &Cx, role: &str) -> Result<Json, ProviderError> {
    let got = cx
        .aws
        .clients()
        .iam
        .get_role_policy()
        .role_name(role)
        .policy_name(POLICY_NAME)
        .send()
        .await
        .map_err(cx.err(Service::Iam, "GetRolePolicy"));
    match absent_is_none(got)? {
        Some(resp) => statements(resp.policy_document()).ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Fatal,
                format!(
                    "the inline policy `{POLICY_NAME}` of role `{role}` is not a policy document"
                ),
            )
        }),
        None => Ok(json!([])),
    }
}

/// Makes the role's inline policy match `policies`: put when there are statements, deleted
/// when there are none (nothing when it is already gone).
pub(crate) async fn put(cx: &Cx, role: &str, policies: Option<&Json>) -> Result<(), ProviderError> {
    let iam = &cx.aws.clients().iam;
    match document(policies) {
        Some(doc) => {
            iam.put_role_policy()
                .role_name(role)
                .policy_name(POLICY_NAME)
                .policy_document(doc)
                .send()
                .await
                .map_err(cx.err(Service::Iam, "PutRolePolicy"))?;
        }
        None => {
            let deleted = iam
                .delete_role_policy()
                .role_name(role)
                .policy_name(POLICY_NAME)
                .send()
                .await
                .map_err(cx.err(Service::Iam, "DeleteRolePolicy"));
            gone_is_ok(deleted)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_round_trip_through_the_document() {
        let policies = json!([
            {"sid": "Read", "effect": "Allow", "actions": ["s3:GetObject", "s3:ListBucket"],
             "resources": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
             "conditions": {"StringEquals": {"aws:SourceVpc": "vpc-1"}}},
            {"effect": "Deny", "actions": ["s3:DeleteObject"], "resources": ["*"]},
        ]);
        let doc = document(Some(&policies)).unwrap();
        assert_eq!(statements(&doc).unwrap(), policies);
        // URL-encoded, as GetRolePolicy returns it.
        let encoded: String = doc
            .chars()
            .map(|c| match c {
                '{' | '}' | '"' | ':' | '/' | '*' | ',' | '[' | ']' => {
                    format!("%{:02X}", c as u32)
                }
                c => c.to_string(),
            })
            .collect();
        assert_eq!(statements(&encoded).unwrap(), policies);
    }

    #[test]
    fn only_permission_errors_count_as_denied() {
        let err = |code: &str| {
            super::super::common::provider_error(crate::AwsError::AccessDenied {
                service: "iam",
                operation: "GetRolePolicy".into(),
                code: code.into(),
                message: "not allowed".into(),
                request_id: None,
            })
        };
        assert!(denied(&err("AccessDenied")));
        let other = super::super::common::provider_error(crate::AwsError::Other {
            service: "iam",
            operation: "GetRolePolicy".into(),
            code: "MalformedPolicyDocument".into(),
            message: "bad".into(),
            request_id: None,
        });
        assert!(!denied(&other));
    }

    #[test]
    fn single_strings_read_as_lists_and_empty_lists_send_nothing() {
        let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sqs:*","Resource":"*"}}"#;
        assert_eq!(
            statements(doc).unwrap(),
            json!([{"effect": "Allow", "actions": ["sqs:*"], "resources": ["*"]}])
        );
        assert_eq!(document(Some(&json!([]))), None);
        assert_eq!(document(None), None);
    }
}
