//! `aws.iam_role`: a role a service assumes, e.g. the ECS task execution role.
//!
//! The physical id is the role name. The trust policy lets the one service principal of
//! `assumed_by` assume the role (a change replaces the role); `managed_policies` is exact:
//! policies are attached and detached to match it. IAM has no batch describe, so a read is
//! one `GetRole` (which includes the tags) and one `ListAttachedRolePolicies` per role, with
//! several roles read at once (`READ_CONCURRENCY`).
//!
//! IAM is eventually consistent: a new role may not be assumable for some seconds. The
//! create waits until `GetRole` sees the role; where the delay still bites (ECS registering
//! a task definition or creating a service with it), those calls retry on that specific
//! error (see `ecs::retry_role_propagation`).

use async_trait::async_trait;
use aws_sdk_iam::types::Tag;
use iac_engine::provider::{
    Created, Existing, Found, Imported, Live, OpContext, ProviderError, ReadRequest,
};
use serde_json::{json, Map, Value as Json};

use super::common::{
    absent_is_none, all_pages, apply_tag_diff, arn_name, find_by_name, for_each_bounded,
    iam_next_marker, live_tags, order_like, poll_until, req_str, sdk_tags_of, str_list,
    taken_as_conflict, Backoff, READ_CONCURRENCY,
};
use super::{iam_policy, touches, Cx, ResourceType};
use crate::Service;

const RTYPE: &str = "aws.iam_role";

/// The `aws.iam_role` implementation.
#[derive(Debug, Clone, Copy, Default)]
pub struct IamRole;

/// The trust policy letting `principal` (e.g. `ecs-tasks.amazonaws.com`) assume the role.
pub(crate) fn trust_policy(principal: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": principal},
            "Action": "sts:AssumeRole"
        }]
    })
    .to_string()
}

/// Decodes `%XX` escapes: IAM returns policy documents URL-encoded.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                // Two hex digits make one byte: cannot overflow.
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The service principal a trust policy names, when it names exactly one (the shape iac
/// writes); `None` for anything else, which then shows as drift against `assumed_by`.
pub(crate) fn principal_of(document: &str) -> Option<String> {
    let doc: Json = serde_json::from_str(document)
        .or_else(|_| serde_json::from_str(&percent_decode(document)))
        .ok()?;
    let statements = match doc.get("Statement")? {
        Json::Array(a) => a.clone(),
        single => vec![single.clone()],
    };
    let mut services = Vec::new();
    for st in &statements {
        match st.get("Principal").and_then(|p| p.get("Service")) {
            Some(Json::String(s)) => services.push(s.clone()),
            Some(Json::Array(a)) => {
                services.extend(a.iter().filter_map(Json::as_str).map(str::to_owned))
            }
            _ => {}
        }
    }
    match services.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

/// The ARNs of the policies attached to the role, all pages.
async fn attached(cx: &Cx, role: &str) -> Result<Vec<String>, ProviderError> {
    let iam = &cx.aws.clients().iam;
    all_pages(|marker| {
        let page = iam
            .list_attached_role_policies()
            .role_name(role)
            .set_marker(marker);
        async move {
            let resp = page
                .send()
                .await
                .map_err(cx.err(Service::Iam, "ListAttachedRolePolicies"))?;
            let arns = resp
                .attached_policies()
                .iter()
                .filter_map(|p| p.policy_arn().map(str::to_owned))
                .collect();
            Ok((arns, iam_next_marker(resp.marker(), resp.is_truncated())))
        }
    })
    .await
}

/// Attaches and detaches policies so that exactly `want` is attached.
async fn match_policies(
    cx: &Cx,
    role: &str,
    have: &[String],
    want: &[String],
) -> Result<(), ProviderError> {
    let iam = &cx.aws.clients().iam;
    for arn in want.iter().filter(|a| !have.contains(a)) {
        iam.attach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .map_err(cx.err(Service::Iam, "AttachRolePolicy"))?;
    }
    for arn in have.iter().filter(|a| !want.contains(a)) {
        iam.detach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .map_err(cx.err(Service::Iam, "DetachRolePolicy"))?;
    }
    Ok(())
}

/// One role as it is live: `GetRole` (which includes the tags) and its attached policies;
/// `None` when the role is gone.
async fn read_role(cx: &Cx, r: &ReadRequest) -> Result<Option<Live>, ProviderError> {
    let got = cx
        .aws
        .clients()
        .iam
        .get_role()
        .role_name(&r.physical_id)
        .send()
        .await
        .map_err(cx.err(Service::Iam, "GetRole"));
    let Some(role) = absent_is_none(got)?.and_then(|resp| resp.role().cloned()) else {
        return Ok(None);
    };
    let policies = order_like(
        attached(cx, &r.physical_id).await?,
        r.last_inputs.get("managed_policies"),
    );
    let mut inputs = Map::new();
    inputs.insert("name".into(), json!(role.role_name()));
    let principal = role.assume_role_policy_document().and_then(principal_of);
    inputs.insert(
        "assumed_by".into(),
        principal.map_or(Json::Null, Json::String),
    );
    if !policies.is_empty() || r.last_inputs.get("managed_policies").is_some() {
        inputs.insert("managed_policies".into(), json!(policies));
    }
    let applied = r.last_inputs.get("policies").is_some_and(|p| !p.is_null());
    let inline = match iam_policy::read(cx, &r.physical_id).await {
        Ok(inline) => inline,
        // An identity without `iam:GetRolePolicy` can still manage roles without `policies`.
        Err(e) if iam_policy::denied(&e) && !applied => json!([]),
        Err(e) => return Err(e),
    };
    if inline.as_array().is_some_and(|l| !l.is_empty()) || applied {
        inputs.insert("policies".into(), inline);
    }
    inputs.insert("tags".into(), live_tags(role.tags()));
    Ok(Some(Live {
        inputs: Json::Object(inputs),
        attrs: json!({"arn": role.arn(), "name": role.role_name()}),
    }))
}

#[async_trait]
impl ResourceType for IamRole {
    async fn read(
        &self,
        cx: &Cx,
        requests: &[ReadRequest],
    ) -> Result<Vec<Option<Live>>, ProviderError> {
        // Two calls per role and no batch form: the roles are read concurrently.
        for_each_bounded(requests, READ_CONCURRENCY, |r| read_role(cx, r)).await
    }

    /// By name or ARN (the physical id is the name).
    async fn import(
        &self,
        cx: &Cx,
        name: &str,
        id: &str,
        desired: &Json,
    ) -> Result<Option<Imported>, ProviderError> {
        super::read_one(self, cx, name, arn_name(id, "role"), desired, json!({})).await
    }

    /// By `name`: the role of that name (see `find`), whoever owns it.
    async fn lookup(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Found>, ProviderError> {
        super::lookup::by_find(self, cx, name, inputs).await
    }

    /// By its name (the `name` input, unique per account); whose it is, by its tags.
    async fn find(
        &self,
        cx: &Cx,
        name: &str,
        inputs: &Json,
    ) -> Result<Option<Existing>, ProviderError> {
        find_by_name(self, RTYPE, cx, name, inputs).await
    }

    /// A role of that name that exists already (whoever made it) makes the create fail with
    /// `Conflict` before anything else is sent: its policies and tags are left as they are.
    async fn create(
        &self,
        cx: &Cx,
        op: &OpContext,
        _name: &str,
        inputs: &Json,
    ) -> Result<Created, ProviderError> {
        let name = req_str(inputs, RTYPE, "name")?;
        let principal = req_str(inputs, RTYPE, "assumed_by")?;
        let iam = &cx.aws.clients().iam;
        let created = iam
            .create_role()
            .role_name(name)
            .assume_role_policy_document(trust_policy(principal))
            .description("Managed by iac")
            .set_tags(sdk_tags_of(inputs)?)
            .send()
            .await
            .map_err(cx.err(Service::Iam, "CreateRole"));
        taken_as_conflict(
            created,
            "EntityAlreadyExists",
            &format!("IAM role `{name}`"),
        )?;
        let want = str_list(inputs, "managed_policies");
        let have = attached(cx, name).await?;
        match_policies(cx, name, &have, &want).await?;
        if iam_policy::document(inputs.get("policies")).is_some() {
            iam_policy::put(cx, name, inputs.get("policies")).await?;
        }
        // IAM is eventually consistent: wait until the role reads back before dependents
        // (task definitions, services) name it.
        let arn = poll_until(
            op,
            &format!("role `{name}` to become visible"),
            Backoff::SHORT,
            || async {
                let got = iam
                    .get_role()
                    .role_name(name)
                    .send()
                    .await
                    .map_err(cx.err(Service::Iam, "GetRole"));
                Ok(absent_is_none(got)?.and_then(|resp| resp.role().map(|r| r.arn().to_owned())))
            },
        )
        .await?;
        cx.role_created(&arn);
        Ok(Created {
            physical_id: name.to_owned(),
            attrs: json!({"arn": arn, "name": name}),
        })
    }

    async fn update(
        &self,
        cx: &Cx,
        _op: &OpContext,
        id: &str,
        old: &Json,
        new: &Json,
        changed: &[String],
    ) -> Result<Json, ProviderError> {
        let iam = &cx.aws.clients().iam;
        if touches(changed, "managed_policies") {
            let have = attached(cx, id).await?;
            match_policies(cx, id, &have, &str_list(new, "managed_policies")).await?;
        }
        if touches(changed, "policies") {
            iam_policy::put(cx, id, new.get("policies")).await?;
        }
        let remove = |keys| async move {
            iam.untag_role()
                .role_name(id)
                .set_tag_keys(Some(keys))
                .send()
                .await
                .map_err(cx.err(Service::Iam, "UntagRole"))?;
            Ok(())
        };
        let add = |tags: Vec<Tag>| async move {
            iam.tag_role()
                .role_name(id)
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(cx.err(Service::Iam, "TagRole"))?;
            Ok(())
        };
        apply_tag_diff(old, new, remove, add).await?;
        let resp = iam
            .get_role()
            .role_name(id)
            .send()
            .await
            .map_err(cx.err(Service::Iam, "GetRole"))?;
        let arn = resp.role().map(|r| r.arn().to_owned()).unwrap_or_default();
        Ok(json!({"arn": arn, "name": id}))
    }

    /// Detaches the managed policies, deletes inline policies and instance-profile links
    /// (IAM refuses to delete a role that has any), then the role.
    async fn delete(
        &self,
        cx: &Cx,
        _op: &OpContext,
        id: &str,
        _inputs: &Json,
    ) -> Result<(), ProviderError> {
        let iam = &cx.aws.clients().iam;
        let have = attached(cx, id).await?;
        match_policies(cx, id, &have, &[]).await?;
        let inline = iam
            .list_role_policies()
            .role_name(id)
            .send()
            .await
            .map_err(cx.err(Service::Iam, "ListRolePolicies"))?;
        for policy in inline.policy_names() {
            iam.delete_role_policy()
                .role_name(id)
                .policy_name(policy)
                .send()
                .await
                .map_err(cx.err(Service::Iam, "DeleteRolePolicy"))?;
        }
        let profiles = iam
            .list_instance_profiles_for_role()
            .role_name(id)
            .send()
            .await
            .map_err(cx.err(Service::Iam, "ListInstanceProfilesForRole"))?;
        for profile in profiles.instance_profiles() {
            iam.remove_role_from_instance_profile()
                .role_name(id)
                .instance_profile_name(profile.instance_profile_name())
                .send()
                .await
                .map_err(cx.err(Service::Iam, "RemoveRoleFromInstanceProfile"))?;
        }
        iam.delete_role()
            .role_name(id)
            .send()
            .await
            .map_err(cx.err(Service::Iam, "DeleteRole"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_principal_reads_back_from_plain_and_url_encoded_documents() {
        let doc = trust_policy("ecs-tasks.amazonaws.com");
        assert_eq!(
            principal_of(&doc).as_deref(),
            Some("ecs-tasks.amazonaws.com")
        );
        let encoded = doc
            .replace('%', "%25")
            .replace('{', "%7B")
            .replace('}', "%7D")
            .replace('"', "%22")
            .replace(':', "%3A");
        assert_eq!(
            principal_of(&encoded).as_deref(),
            Some("ecs-tasks.amazonaws.com")
        );
        let two =
            r#"{"Statement":[{"Principal":{"Service":["a.amazonaws.com","b.amazonaws.com"]}}]}"#;
        assert_eq!(principal_of(two), None);
        assert_eq!(principal_of("not json"), None);
    }

    #[test]
    fn policies_keep_the_applied_order() {
        let last = json!(["b", "a"]);
        assert_eq!(
            order_like(vec!["a".into(), "c".into(), "b".into()], Some(&last)),
            ["b", "a", "c"]
        );
    }
}
