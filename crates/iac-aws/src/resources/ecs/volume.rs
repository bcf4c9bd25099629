//! The `volumes` of `aws.task_definition`, both ways: the stack's volume objects to the
//! `Volume`s RegisterTaskDefinition takes ([`volumes`]), and described ones back to the
//! stack's shape ([`normalise`]).
//!
//! A volume is a bind mount on the task's ephemeral storage (a name only; ECS describes it
//! with an empty `host`, which is not the stack's) or an EFS file system. What ECS fills in
//! for EFS reads as omitted unless the stack wrote it: the root directory `/`, transit
//! encryption and IAM authorisation `DISABLED`.

use aws_sdk_ecs::types::{
    EfsAuthorizationConfig, EfsAuthorizationConfigIam, EfsTransitEncryption,
    EfsVolumeConfiguration, Volume,
};
use iac_engine::provider::{ErrorKind, ProviderError};
use serde_json::{json, Map, Value as Json};

use super::omit_unapplied;
use crate::resources::common::owned_str;

/// ECS's root directory of an EFS volume that names none.
const EFS_ROOT: &str = "/";

fn transit_encryption(on: bool) -> EfsTransitEncryption {
    if on {
        EfsTransitEncryption::Enabled
    } else {
        EfsTransitEncryption::Disabled
    }
}

fn iam(on: bool) -> EfsAuthorizationConfigIam {
    if on {
        EfsAuthorizationConfigIam::Enabled
    } else {
        EfsAuthorizationConfigIam::Disabled
    }
}

/// The volumes ECS is given for the `volumes` input; `None` when the stack has none.
pub(crate) fn volumes(inputs: &Json) -> Result<Option<Vec<Volume>>, ProviderError> {
    let Some(list) = inputs.get("volumes").and_then(Json::as_array) else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(list.len());
    for v in list {
        let name = v.get("name").and_then(Json::as_str).unwrap_or_default();
        let mut volume = Volume::builder().name(name);
        if let Some(efs) = v.get("efs").filter(|e| e.is_object()) {
            let bool_of = |k: &str| efs.get(k).and_then(Json::as_bool);
            let access_point = efs.get("access_point").and_then(Json::as_str);
            let iam_flag = bool_of("iam");
            let auth = (access_point.is_some() || iam_flag.is_some()).then(|| {
                EfsAuthorizationConfig::builder()
                    .set_access_point_id(access_point.map(str::to_owned))
                    .set_iam(iam_flag.map(iam))
                    .build()
            });
            let config = EfsVolumeConfiguration::builder()
                .set_file_system_id(owned_str(efs, "file_system"))
                .set_root_directory(owned_str(efs, "root_directory"))
                .set_transit_encryption(bool_of("transit_encryption").map(transit_encryption))
                .set_authorization_config(auth)
                .build()
                .map_err(|e| {
                    ProviderError::new(
                        ErrorKind::Fatal,
                        format!("volume `{name}`: `efs` is incomplete: {e}"),
                    )
                })?;
            volume = volume.efs_volume_configuration(config);
        }
        out.push(volume.build());
    }
    Ok(Some(out))
}

/// The live volumes in the stack's shape, each shaped like the applied volume of the same
/// name in `last` (the applied `volumes` list).
pub(crate) fn normalise(live: &[Volume], last: Option<&Json>) -> Json {
    let items = live
        .iter()
        .map(|v| {
            let name = json!(v.name().unwrap_or_default());
            let last_v = last
                .and_then(Json::as_array)
                .and_then(|l| l.iter().find(|l| l.get("name") == Some(&name)));
            let mut vm = Map::new();
            vm.insert("name".into(), name);
            if let Some(efs) = v.efs_volume_configuration() {
                let last_efs = last_v.and_then(|l| l.get("efs"));
                vm.insert("efs".into(), efs_json(efs, last_efs));
            }
            Json::Object(vm)
        })
        .collect();
    Json::Array(items)
}

fn efs_json(efs: &EfsVolumeConfiguration, last: Option<&Json>) -> Json {
    let auth = efs.authorization_config();
    let mut m = Map::new();
    m.insert("file_system".into(), json!(efs.file_system_id()));
    m.insert("root_directory".into(), json!(efs.root_directory()));
    m.insert(
        "access_point".into(),
        json!(auth.and_then(EfsAuthorizationConfig::access_point_id)),
    );
    m.insert(
        "transit_encryption".into(),
        json!(efs
            .transit_encryption()
            .map(|t| t == &EfsTransitEncryption::Enabled)),
    );
    m.insert(
        "iam".into(),
        json!(auth
            .and_then(EfsAuthorizationConfig::iam)
            .map(|i| i == &EfsAuthorizationConfigIam::Enabled)),
    );
    omit_unapplied(
        &mut m,
        last,
        &[
            ("root_directory", json!(EFS_ROOT)),
            ("transit_encryption", json!(false)),
            ("iam", json!(false)),
        ],
    );
    Json::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied() -> Json {
        json!([
            {"name": "cache"},
            {"name": "shared", "efs": {
                "file_system": "fs-0123",
                "access_point": "fsap-0456",
                "transit_encryption": true,
                "iam": true
            }},
            {"name": "plain", "efs": {"file_system": "fs-0789", "root_directory": "/data"}}
        ])
    }

    #[test]
    fn every_volume_field_is_sent() {
        let sent = volumes(&json!({"volumes": applied()})).unwrap().unwrap();
        assert_eq!(sent.len(), 3);
        assert_eq!(sent[0].name(), Some("cache"));
        assert!(sent[0].efs_volume_configuration().is_none());
        let efs = sent[1].efs_volume_configuration().unwrap();
        assert_eq!(efs.file_system_id(), "fs-0123");
        assert_eq!(efs.root_directory(), None);
        assert_eq!(
            efs.transit_encryption(),
            Some(&EfsTransitEncryption::Enabled)
        );
        let auth = efs.authorization_config().unwrap();
        assert_eq!(auth.access_point_id(), Some("fsap-0456"));
        assert_eq!(auth.iam(), Some(&EfsAuthorizationConfigIam::Enabled));
        let plain = sent[2].efs_volume_configuration().unwrap();
        assert_eq!(plain.root_directory(), Some("/data"));
        assert!(plain.authorization_config().is_none());
        assert!(plain.transit_encryption().is_none());
        assert!(volumes(&json!({})).unwrap().is_none());
    }

    #[test]
    fn volumes_read_back_as_applied_with_what_ecs_fills_in_omitted() {
        let mut live = volumes(&json!({"volumes": applied()})).unwrap().unwrap();
        // ECS describes a bind mount with an empty `host`, fills in the root directory and
        // the disabled flags of an EFS volume that set none.
        live[0].host = Some(aws_sdk_ecs::types::HostVolumeProperties::builder().build());
        let efs = live[2].efs_volume_configuration.as_mut().unwrap();
        efs.transit_encryption = Some(EfsTransitEncryption::Disabled);
        efs.authorization_config = Some(
            EfsAuthorizationConfig::builder()
                .iam(EfsAuthorizationConfigIam::Disabled)
                .build(),
        );
        let shared = live[1].efs_volume_configuration.as_mut().unwrap();
        shared.root_directory = Some("/".into());
        assert_eq!(normalise(&live, Some(&applied())), applied());
    }

    #[test]
    fn changed_volumes_show() {
        let mut live = volumes(&json!({"volumes": applied()})).unwrap().unwrap();
        let efs = live[1].efs_volume_configuration.as_mut().unwrap();
        efs.transit_encryption = Some(EfsTransitEncryption::Disabled);
        live.remove(0);
        let read = normalise(&live, Some(&applied()));
        assert_eq!(read[0]["efs"]["transit_encryption"], json!(false));
        assert_eq!(read.as_array().unwrap().len(), 2);
        // A root directory the stack did not write but someone set shows too.
        let mut live = volumes(&json!({"volumes": applied()})).unwrap().unwrap();
        live[1]
            .efs_volume_configuration
            .as_mut()
            .unwrap()
            .root_directory = Some("/x".into());
        let read = normalise(&live, Some(&applied()));
        assert_eq!(read[1]["efs"]["root_directory"], json!("/x"));
    }
}
