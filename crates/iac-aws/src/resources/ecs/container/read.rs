//! A described `ContainerDefinition` back in the stack's shape: see the parent module for
//! what is normalised and why.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_ecs::types::{
    ApplicationProtocol, ContainerDefinition, HealthCheck, LinuxParameters, LogDriver,
    TransportProtocol,
};
use serde_json::{json, Map, Value as Json};

use super::{
    given, text, AWSLOGS_GROUP, AWSLOGS_PREFIX, AWSLOGS_REGION, HEALTH_CHECK_DEFAULTS,
    RESTART_ATTEMPT_PERIOD,
};
use crate::resources::common::order_like;
use crate::resources::ecs::omit_unapplied;

/// A live map as a JSON object with the keys in the order of the applied map `last`, then
/// the others sorted: the order means nothing to ECS, but a plan shows maps as text, and a
/// reordered map would show lines that did not change.
fn keyed_like(
    live: BTreeMap<&str, &str>,
    last: Option<&Json>,
    value: impl Fn(&str, &str) -> Json,
) -> Map<String, Json> {
    let mut out = Map::new();
    for k in last
        .and_then(Json::as_object)
        .into_iter()
        .flat_map(|m| m.keys())
    {
        if let Some(v) = live.get(k.as_str()) {
            out.insert(k.clone(), value(k, v));
        }
    }
    for (k, v) in &live {
        if !out.contains_key(*k) {
            out.insert((*k).to_owned(), value(k, v));
        }
    }
    out
}

/// A live string map (driver options, labels) shaped like the applied one; a value the
/// stack wrote as a number or boolean (`PORT: 3000`) and ECS returns as text is the same.
fn map_like(live: Option<&HashMap<String, String>>, last: Option<&Json>) -> Json {
    let live: BTreeMap<&str, &str> = live
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    Json::Object(keyed_like(live, last, |k, v| same_text(last, k, v)))
}

/// The applied value of `key` in the map `last` when ECS's text `v` is what it was sent
/// as, else `v`: `3000` in the stack is sent as "3000", the same value, not drift.
fn same_text(last: Option<&Json>, key: &str, v: &str) -> Json {
    last.and_then(|l| l.get(key))
        .filter(|a| text(a).as_deref() == Some(v))
        .cloned()
        .unwrap_or_else(|| json!(v))
}

/// The item of the applied list `last` whose `key` equals `value`: the applied shape of a
/// live list item (a mount point by its path, a port mapping by its port).
fn last_item<'a>(last: Option<&'a Json>, key: &str, value: &Json) -> Option<&'a Json> {
    last.and_then(Json::as_array)?
        .iter()
        .find(|l| l.get(key) == Some(value))
}

/// An applied list in the shape of the list the stack wrote at `key` of `last`.
fn list_field<'a>(last: Option<&'a Json>, key: &str) -> Option<&'a Json> {
    last.and_then(|l| given(l, key))
}

/// One live container definition in the stack's shape, shaped like `last` (the container
/// of the same name last applied, if any).
pub(crate) fn normalise(c: &ContainerDefinition, last: Option<&Json>) -> Json {
    let mut m = Map::new();
    m.insert("name".into(), json!(c.name().unwrap_or_default()));
    m.insert("image".into(), json!(c.image().unwrap_or_default()));
    read_ports(c, last, &mut m);
    m.insert("cpu".into(), json!(c.cpu()));
    // Absent limits read as `null`, dropped below unless the stack set them.
    m.insert("memory".into(), c.memory().map_or(Json::Null, Json::from));
    m.insert(
        "memory_reservation".into(),
        c.memory_reservation().map_or(Json::Null, Json::from),
    );
    m.insert("entry_point".into(), json!(c.entry_point()));
    m.insert("command".into(), json!(c.command()));
    m.insert("working_directory".into(), json!(c.working_directory()));
    m.insert("user".into(), json!(c.user()));
    // ECS returns variables in its own order; the stack has a map.
    let env: BTreeMap<&str, &str> = c
        .environment()
        .iter()
        .filter_map(|kv| Some((kv.name()?, kv.value().unwrap_or(""))))
        .collect();
    let last_env = last.and_then(|l| l.get("environment"));
    let env = keyed_like(env, last_env, |k, v| same_text(last_env, k, v));
    m.insert("environment".into(), Json::Object(env));
    let last_files = list_field(last, "environment_files");
    let files: Vec<Json> = c
        .environment_files()
        .iter()
        .map(|f| {
            let value = json!(f.value());
            let mut fm = Map::new();
            fm.insert("type".into(), json!(f.r#type().as_str()));
            fm.insert("value".into(), value.clone());
            // `s3`, the only kind, is what an omitted `type` means.
            omit_unapplied(
                &mut fm,
                last_item(last_files, "value", &value),
                &[("type", json!("s3"))],
            );
            Json::Object(fm)
        })
        .collect();
    m.insert("environment_files".into(), Json::Array(files));
    let secrets: BTreeMap<&str, &str> = c
        .secrets()
        .iter()
        .map(|s| (s.name(), s.value_from()))
        .collect();
    let last_secrets = last.and_then(|l| l.get("secrets"));
    let secrets = keyed_like(secrets, last_secrets, |_, v| json!(v));
    m.insert("secrets".into(), Json::Object(secrets));
    read_logs(c, last, &mut m);
    if let Some(f) = c.firelens_configuration() {
        let last_f = last.and_then(|l| l.get("firelens_configuration"));
        let mut fm = Map::new();
        fm.insert("type".into(), json!(f.r#type().as_str()));
        let last_options = last_f.and_then(|l| l.get("options"));
        fm.insert("options".into(), map_like(f.options(), last_options));
        omit_unapplied(&mut fm, last_f, &[]);
        m.insert("firelens_configuration".into(), Json::Object(fm));
    }
    if let Some(h) = c.health_check() {
        m.insert(
            "health_check".into(),
            read_health_check(h, last.and_then(|l| l.get("health_check"))),
        );
    }
    let deps: Vec<Json> = c
        .depends_on()
        .iter()
        .map(|d| json!({"container": d.container_name(), "condition": d.condition().as_str()}))
        .collect();
    m.insert("depends_on".into(), Json::Array(deps));
    m.insert("essential".into(), json!(c.essential().unwrap_or(true)));
    if let Some(r) = c.restart_policy() {
        let last_r = last.and_then(|l| l.get("restart_policy"));
        let mut rm = Map::new();
        rm.insert("enabled".into(), json!(r.enabled()));
        rm.insert("ignored_exit_codes".into(), json!(r.ignored_exit_codes()));
        rm.insert(
            "restart_attempt_period".into(),
            r.restart_attempt_period().map_or(Json::Null, Json::from),
        );
        omit_unapplied(
            &mut rm,
            last_r,
            &[
                ("enabled", json!(true)),
                ("restart_attempt_period", json!(RESTART_ATTEMPT_PERIOD)),
            ],
        );
        m.insert("restart_policy".into(), Json::Object(rm));
    }
    m.insert(
        "stop_timeout".into(),
        c.stop_timeout().map_or(Json::Null, Json::from),
    );
    m.insert(
        "readonly_root_filesystem".into(),
        c.readonly_root_filesystem().map_or(Json::Null, Json::from),
    );
    let last_mounts = list_field(last, "mount_points");
    let mounts: Vec<Json> = c
        .mount_points()
        .iter()
        .map(|p| {
            let path = json!(p.container_path());
            let mut pm = Map::new();
            pm.insert("volume".into(), json!(p.source_volume()));
            pm.insert("path".into(), path.clone());
            pm.insert(
                "read_only".into(),
                p.read_only().map_or(Json::Null, Json::from),
            );
            omit_unapplied(
                &mut pm,
                last_item(last_mounts, "path", &path),
                &[("read_only", json!(false))],
            );
            Json::Object(pm)
        })
        .collect();
    m.insert("mount_points".into(), Json::Array(mounts));
    let last_from = list_field(last, "volumes_from");
    let from: Vec<Json> = c
        .volumes_from()
        .iter()
        .map(|v| {
            let container = json!(v.source_container());
            let mut vm = Map::new();
            vm.insert("container".into(), container.clone());
            vm.insert(
                "read_only".into(),
                v.read_only().map_or(Json::Null, Json::from),
            );
            omit_unapplied(
                &mut vm,
                last_item(last_from, "container", &container),
                &[("read_only", json!(false))],
            );
            Json::Object(vm)
        })
        .collect();
    m.insert("volumes_from".into(), Json::Array(from));
    if let Some(l) = c.linux_parameters() {
        m.insert(
            "linux_parameters".into(),
            read_linux_parameters(l, last.and_then(|l| l.get("linux_parameters"))),
        );
    }
    let ulimits: Vec<Json> = c
        .ulimits()
        .iter()
        .map(|u| json!({"name": u.name().as_str(), "soft": u.soft_limit(), "hard": u.hard_limit()}))
        .collect();
    m.insert("ulimits".into(), Json::Array(ulimits));
    m.insert(
        "docker_labels".into(),
        map_like(c.docker_labels(), last.and_then(|l| l.get("docker_labels"))),
    );
    omit_unapplied(
        &mut m,
        last,
        &[
            ("essential", json!(true)),
            ("cpu", json!(0)),
            ("readonly_root_filesystem", json!(false)),
        ],
    );
    Json::Object(m)
}

/// `port` when the live mappings are the one TCP port it writes and the stack did not last
/// write `port_mappings`; `port_mappings` otherwise (none: neither).
fn read_ports(c: &ContainerDefinition, last: Option<&Json>, m: &mut Map<String, Json>) {
    let mappings = c.port_mappings();
    let last_long = list_field(last, "port_mappings");
    let short = match mappings {
        [one] if last_long.is_none() => {
            let port = one.container_port();
            let tcp = one.protocol().is_none_or(|p| p == &TransportProtocol::Tcp);
            // 0 is a dynamic host port (bridge networking), what an omitted one means there.
            let host_same = one.host_port().is_none_or(|h| h == 0 || Some(h) == port);
            (tcp && host_same && one.name().is_none() && one.app_protocol().is_none())
                .then_some(port)
                .flatten()
        }
        _ => None,
    };
    if let Some(port) = short {
        m.insert("port".into(), json!(port));
        return;
    }
    let items: Vec<Json> = mappings
        .iter()
        .map(|p| {
            let port = p.container_port().map_or(Json::Null, Json::from);
            let mut pm = Map::new();
            pm.insert("port".into(), port.clone());
            pm.insert(
                "host_port".into(),
                p.host_port().map_or(Json::Null, Json::from),
            );
            pm.insert(
                "protocol".into(),
                json!(p.protocol().map_or("tcp", TransportProtocol::as_str)),
            );
            pm.insert("name".into(), json!(p.name()));
            pm.insert(
                "app_protocol".into(),
                json!(p.app_protocol().map(ApplicationProtocol::as_str)),
            );
            // ECS sets the host port to the container port (awsvpc networking), or to 0, a
            // dynamic one (bridge networking).
            omit_unapplied(
                &mut pm,
                last_item(last_long, "port", &port),
                &[
                    ("host_port", port.clone()),
                    ("host_port", json!(0)),
                    ("protocol", json!("tcp")),
                ],
            );
            Json::Object(pm)
        })
        .collect();
    m.insert("port_mappings".into(), Json::Array(items));
}

/// `log_group` (and `log_stream_prefix` unless it is the container's name and the stack
/// did not write it) when the live configuration is one `log_group` writes and the stack
/// did not last write `log_configuration`; `log_configuration` otherwise.
fn read_logs(c: &ContainerDefinition, last: Option<&Json>, m: &mut Map<String, Json>) {
    let Some(lc) = c.log_configuration() else {
        return;
    };
    let last_long = last.and_then(|l| given(l, "log_configuration"));
    let options = lc.options();
    let option = |k: &str| options.and_then(|o| o.get(k)).map(String::as_str);
    let short_keys = options
        .into_iter()
        .flatten()
        .all(|(k, _)| matches!(k.as_str(), AWSLOGS_GROUP | AWSLOGS_REGION | AWSLOGS_PREFIX));
    let short = last_long.is_none()
        && lc.log_driver() == &LogDriver::Awslogs
        && lc.secret_options().is_empty()
        && short_keys;
    if let (true, Some(group)) = (short, option(AWSLOGS_GROUP)) {
        m.insert("log_group".into(), json!(group));
        let prefix = option(AWSLOGS_PREFIX);
        let written = last.is_some_and(|l| given(l, "log_stream_prefix").is_some());
        if written || prefix != c.name() {
            m.insert("log_stream_prefix".into(), json!(prefix));
        }
        return;
    }
    let mut lm = Map::new();
    lm.insert("driver".into(), json!(lc.log_driver().as_str()));
    lm.insert(
        "options".into(),
        map_like(options, last_long.and_then(|l| l.get("options"))),
    );
    let secrets: BTreeMap<&str, &str> = lc
        .secret_options()
        .iter()
        .map(|s| (s.name(), s.value_from()))
        .collect();
    let last_secrets = last_long.and_then(|l| l.get("secret_options"));
    lm.insert(
        "secret_options".into(),
        Json::Object(keyed_like(secrets, last_secrets, |_, v| json!(v))),
    );
    omit_unapplied(&mut lm, last_long, &[]);
    m.insert("log_configuration".into(), Json::Object(lm));
}

/// The health check with ECS's default timings for those it does not return, which read
/// as omitted unless the stack wrote them (the loader fills the schema's same defaults in).
fn read_health_check(h: &HealthCheck, last: Option<&Json>) -> Json {
    let mut hm = Map::new();
    hm.insert("command".into(), json!(h.command()));
    let live = [h.interval(), h.timeout(), h.retries(), h.start_period()];
    for ((key, default), v) in HEALTH_CHECK_DEFAULTS.iter().zip(live) {
        hm.insert((*key).into(), json!(v.map_or(*default, i64::from)));
    }
    let defaults: Vec<(&str, Json)> = HEALTH_CHECK_DEFAULTS
        .iter()
        .map(|(k, d)| (*k, json!(d)))
        .collect();
    omit_unapplied(&mut hm, last, &defaults);
    Json::Object(hm)
}

/// Capabilities (in the applied order: ECS's means nothing) and the init process.
fn read_linux_parameters(l: &LinuxParameters, last: Option<&Json>) -> Json {
    let mut lm = Map::new();
    if let Some(k) = l.capabilities() {
        let last_k = last.and_then(|l| l.get("capabilities"));
        let mut km = Map::new();
        for (key, live) in [("add", k.add()), ("drop", k.drop())] {
            let ordered = order_like(live.to_vec(), last_k.and_then(|l| l.get(key)));
            km.insert(key.into(), json!(ordered));
        }
        omit_unapplied(&mut km, last_k, &[]);
        lm.insert("capabilities".into(), Json::Object(km));
    }
    lm.insert(
        "init_process_enabled".into(),
        l.init_process_enabled().map_or(Json::Null, Json::from),
    );
    omit_unapplied(&mut lm, last, &[("init_process_enabled", json!(false))]);
    Json::Object(lm)
}
