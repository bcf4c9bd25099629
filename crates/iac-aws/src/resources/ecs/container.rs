//! One container of `aws.task_definition`, both ways: the stack's container object to the
//! `ContainerDefinition` RegisterTaskDefinition takes ([`definition`]), and a described
//! `ContainerDefinition` back to the stack's shape ([`normalise`]).
//!
//! The read is the inverse of the send, up to what ECS fills in or reorders, so that an
//! unchanged container reads back equal to what was applied and never plans a new revision:
//!
//! - ECS's own values for what the stack left out read as left out: `cpu: 0`, `essential`,
//!   the port mapping's `hostPort` (= the container port with awsvpc networking) and
//!   `protocol: tcp`, the health check's 30/5/3/0 timings, a restart policy's 300-second
//!   attempt period, `readOnly: false`, empty lists and maps; see `omit_unapplied`.
//! - Maps (`environment`, `secrets`, `docker_labels`, driver options) are order-free; they
//!   read back in the applied order so a plan shows no moved lines. Capabilities too.
//! - Short and long forms: `port` and `port_mappings`, `log_group` (with `log_stream_prefix`)
//!   and `log_configuration`. A live container reads back in the form last applied; in the
//!   short form only when its live value is one the short form writes (one TCP port; the
//!   awslogs driver with a group, a region and a stream prefix), else in the long form, so
//!   that a change made outside iac shows as drift rather than vanishing.
//! - The awslogs region and the default stream prefix (the container's name) are iac's own:
//!   `log_group` sets them, and only the group (and a prefix the stack wrote) read back.

use std::collections::HashMap;

use aws_sdk_ecs::types::{
    ApplicationProtocol, ContainerCondition, ContainerDefinition, ContainerDependency,
    ContainerRestartPolicy, EnvironmentFile, EnvironmentFileType, FirelensConfiguration,
    FirelensConfigurationType, HealthCheck, KernelCapabilities, KeyValuePair, LinuxParameters,
    LogConfiguration, LogDriver, MountPoint, PortMapping, Secret, TransportProtocol, Ulimit,
    UlimitName, VolumeFrom,
};
use iac_engine::provider::{ErrorKind, ProviderError};
use serde_json::Value as Json;

use crate::resources::common::{bool_or, missing_input};

const RTYPE: &str = "aws.task_definition";

/// ECS's health check timings when none are given: interval, timeout, retries, start period.
const HEALTH_CHECK_DEFAULTS: [(&str, i64); 4] = [
    ("interval", 30),
    ("timeout", 5),
    ("retries", 3),
    ("start_period", 0),
];

/// ECS's restart attempt period (seconds) of an enabled restart policy that names none.
const RESTART_ATTEMPT_PERIOD: i64 = 300;

/// The awslogs options `log_group` sets; a live configuration with other options (or
/// without a group) is not one the short form wrote.
const AWSLOGS_GROUP: &str = "awslogs-group";
const AWSLOGS_REGION: &str = "awslogs-region";
const AWSLOGS_PREFIX: &str = "awslogs-stream-prefix";

/// A string input the stack may have written as a number (`cpu: 256`, an environment value
/// `PORT: 3000`), as the string ECS wants.
pub(crate) fn text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A value that is set: present and not `null`.
fn given<'a>(obj: &'a Json, key: &str) -> Option<&'a Json> {
    obj.get(key).filter(|v| !v.is_null())
}

/// The sorted `NAME -> value` pairs of a map input (`environment`, `secrets`, options).
fn pairs(v: Option<&Json>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v
        .and_then(Json::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), text(v)?)))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// A map input as the string map ECS takes; `None` when the stack did not write it.
fn string_map(v: Option<&Json>) -> Option<HashMap<String, String>> {
    v.filter(|v| v.is_object())
        .map(|v| pairs(Some(v)).into_iter().collect())
}

/// A list of strings input (`command`, `entry_point`); `None` when the stack did not write it.
fn strings(v: Option<&Json>) -> Option<Vec<String>> {
    v.and_then(Json::as_array)
        .map(|items| items.iter().filter_map(text).collect())
}

/// The objects of a list input (`mount_points`, `ulimits`...); empty when absent.
fn objects<'a>(obj: &'a Json, key: &str) -> impl Iterator<Item = &'a Json> {
    obj.get(key).and_then(Json::as_array).into_iter().flatten()
}

/// The error for an input ECS cannot take, naming the container and the property.
fn invalid(name: &str, path: &str, what: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(
        ErrorKind::Fatal,
        format!("container `{name}`: `{path}` {what}"),
    )
}

/// An SDK builder's complaint (a required field missing) as a provider error.
fn built<T, E: std::fmt::Display>(
    name: &str,
    path: &str,
    r: Result<T, E>,
) -> Result<T, ProviderError> {
    r.map_err(|e| invalid(name, path, format!("is incomplete: {e}")))
}

/// An integer input as the `i32` ECS takes; `None` when the stack did not set it.
fn int(name: &str, v: Option<&Json>, path: &str) -> Result<Option<i32>, ProviderError> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        .and_then(|n| i32::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| invalid(name, path, format!("`{v}` is not a number ECS takes")))
}

/// A string input; `None` when the stack did not set it.
fn string(v: Option<&Json>) -> Option<String> {
    v.filter(|v| !v.is_null()).and_then(text)
}

/// A boolean input; `None` when the stack did not set it.
fn boolean(v: Option<&Json>) -> Option<bool> {
    v.and_then(Json::as_bool)
}

/// The container definition ECS is given for one container of the `containers` input;
/// `region` is the stack's, which the awslogs driver of `log_group` needs.
pub(crate) fn definition(c: &Json, region: &str) -> Result<ContainerDefinition, ProviderError> {
    let name = c
        .get("name")
        .and_then(Json::as_str)
        .ok_or_else(|| missing_input(RTYPE, "containers[].name"))?;
    let image = c
        .get("image")
        .and_then(Json::as_str)
        .ok_or_else(|| missing_input(RTYPE, "containers[].image"))?;
    let n = name;
    let mut def = ContainerDefinition::builder()
        .name(name)
        .image(image)
        .essential(bool_or(c, "essential", true))
        .set_port_mappings(port_mappings(n, c)?)
        .set_cpu(int(n, c.get("cpu"), "cpu")?)
        // The container's hard and soft memory limits (MiB); omitted, ECS sets none.
        .set_memory(int(n, c.get("memory"), "memory")?)
        .set_memory_reservation(int(n, c.get("memory_reservation"), "memory_reservation")?)
        .set_entry_point(strings(c.get("entry_point")))
        .set_command(strings(c.get("command")))
        .set_working_directory(string(c.get("working_directory")))
        .set_user(string(c.get("user")))
        .set_readonly_root_filesystem(boolean(c.get("readonly_root_filesystem")))
        .set_stop_timeout(int(n, c.get("stop_timeout"), "stop_timeout")?)
        .set_docker_labels(string_map(c.get("docker_labels")))
        .set_log_configuration(log_configuration(n, c, region)?)
        .set_health_check(health_check(n, c)?)
        .set_restart_policy(restart_policy(n, c)?)
        .set_linux_parameters(linux_parameters(c));
    // Sorted by name: ECS keeps the order it is given, and a stable order keeps the
    // container definition (and its diff) the same from one apply to the next.
    for (k, v) in pairs(c.get("environment")) {
        def = def.environment(KeyValuePair::builder().name(k).value(v).build());
    }
    for (k, v) in pairs(c.get("secrets")) {
        def = def.secrets(built(
            n,
            &format!("secrets.{k}"),
            Secret::builder().name(&k).value_from(v).build(),
        )?);
    }
    for f in objects(c, "environment_files") {
        let kind = f.get("type").and_then(Json::as_str).unwrap_or("s3");
        let file = EnvironmentFile::builder()
            .set_value(string(f.get("value")))
            .r#type(EnvironmentFileType::from(kind))
            .build();
        def = def.environment_files(built(n, "environment_files", file)?);
    }
    for d in objects(c, "depends_on") {
        let dep = ContainerDependency::builder()
            .set_container_name(string(d.get("container")))
            .set_condition(
                d.get("condition")
                    .and_then(Json::as_str)
                    .map(ContainerCondition::from),
            )
            .build();
        def = def.depends_on(built(n, "depends_on", dep)?);
    }
    for m in objects(c, "mount_points") {
        def = def.mount_points(
            MountPoint::builder()
                .set_source_volume(string(m.get("volume")))
                .set_container_path(string(m.get("path")))
                .set_read_only(boolean(m.get("read_only")))
                .build(),
        );
    }
    for v in objects(c, "volumes_from") {
        def = def.volumes_from(
            VolumeFrom::builder()
                .set_source_container(string(v.get("container")))
                .set_read_only(boolean(v.get("read_only")))
                .build(),
        );
    }
    for u in objects(c, "ulimits") {
        let ulimit = Ulimit::builder()
            .set_name(u.get("name").and_then(Json::as_str).map(UlimitName::from))
            .set_soft_limit(int(n, u.get("soft"), "ulimits[].soft")?)
            .set_hard_limit(int(n, u.get("hard"), "ulimits[].hard")?)
            .build();
        def = def.ulimits(built(n, "ulimits", ulimit)?);
    }
    if let Some(f) = given(c, "firelens_configuration") {
        let firelens = FirelensConfiguration::builder()
            .set_type(
                f.get("type")
                    .and_then(Json::as_str)
                    .map(FirelensConfigurationType::from),
            )
            .set_options(string_map(f.get("options")))
            .build();
        def = def.firelens_configuration(built(n, "firelens_configuration", firelens)?);
    }
    Ok(def.build())
}

/// `port` (one TCP port) or `port_mappings`; `None` when the container exposes no port.
fn port_mappings(name: &str, c: &Json) -> Result<Option<Vec<PortMapping>>, ProviderError> {
    let mut out = Vec::new();
    if let Some(port) = int(name, c.get("port"), "port")? {
        out.push(
            PortMapping::builder()
                .container_port(port)
                .protocol(TransportProtocol::Tcp)
                .build(),
        );
    }
    for p in objects(c, "port_mappings") {
        out.push(
            PortMapping::builder()
                .set_container_port(int(name, p.get("port"), "port_mappings[].port")?)
                .set_host_port(int(name, p.get("host_port"), "port_mappings[].host_port")?)
                .set_protocol(
                    p.get("protocol")
                        .and_then(Json::as_str)
                        .map(TransportProtocol::from),
                )
                .set_name(string(p.get("name")))
                .set_app_protocol(
                    p.get("app_protocol")
                        .and_then(Json::as_str)
                        .map(ApplicationProtocol::from),
                )
                .build(),
        );
    }
    let given = given(c, "port").is_some() || given(c, "port_mappings").is_some();
    Ok(given.then_some(out))
}

/// `log_group` as the awslogs driver with iac's region and stream prefix (the container's
/// name unless `log_stream_prefix` says otherwise), or `log_configuration` as written.
fn log_configuration(
    name: &str,
    c: &Json,
    region: &str,
) -> Result<Option<LogConfiguration>, ProviderError> {
    if let Some(group) = given(c, "log_group").and_then(Json::as_str) {
        let prefix = string(c.get("log_stream_prefix")).unwrap_or_else(|| name.to_owned());
        let logs = LogConfiguration::builder()
            .log_driver(LogDriver::Awslogs)
            .options(AWSLOGS_GROUP, group)
            .options(AWSLOGS_REGION, region)
            .options(AWSLOGS_PREFIX, prefix)
            .build();
        return built(name, "log_group", logs).map(Some);
    }
    let Some(lc) = given(c, "log_configuration") else {
        return Ok(None);
    };
    let mut logs = LogConfiguration::builder()
        .set_log_driver(lc.get("driver").and_then(Json::as_str).map(LogDriver::from))
        .set_options(string_map(lc.get("options")));
    for (k, v) in pairs(lc.get("secret_options")) {
        let path = format!("log_configuration.secret_options.{k}");
        logs = logs.secret_options(built(
            name,
            &path,
            Secret::builder().name(&k).value_from(v).build(),
        )?);
    }
    built(name, "log_configuration", logs.build()).map(Some)
}

fn health_check(name: &str, c: &Json) -> Result<Option<HealthCheck>, ProviderError> {
    let Some(h) = given(c, "health_check") else {
        return Ok(None);
    };
    let check = HealthCheck::builder()
        .set_command(strings(h.get("command")))
        .set_interval(int(name, h.get("interval"), "health_check.interval")?)
        .set_timeout(int(name, h.get("timeout"), "health_check.timeout")?)
        .set_retries(int(name, h.get("retries"), "health_check.retries")?)
        .set_start_period(int(
            name,
            h.get("start_period"),
            "health_check.start_period",
        )?)
        .build();
    built(name, "health_check", check).map(Some)
}

fn restart_policy(name: &str, c: &Json) -> Result<Option<ContainerRestartPolicy>, ProviderError> {
    let Some(r) = given(c, "restart_policy") else {
        return Ok(None);
    };
    let codes = match r.get("ignored_exit_codes").and_then(Json::as_array) {
        Some(codes) => Some(
            codes
                .iter()
                .map(|v| {
                    int(name, Some(v), "restart_policy.ignored_exit_codes")?.ok_or_else(|| {
                        invalid(name, "restart_policy.ignored_exit_codes", "has a `null`")
                    })
                })
                .collect::<Result<Vec<i32>, _>>()?,
        ),
        None => None,
    };
    let policy = ContainerRestartPolicy::builder()
        .enabled(boolean(r.get("enabled")).unwrap_or(true))
        .set_ignored_exit_codes(codes)
        .set_restart_attempt_period(int(
            name,
            r.get("restart_attempt_period"),
            "restart_policy.restart_attempt_period",
        )?)
        .build();
    built(name, "restart_policy", policy).map(Some)
}

fn linux_parameters(c: &Json) -> Option<LinuxParameters> {
    let l = given(c, "linux_parameters")?;
    let capabilities = given(l, "capabilities").map(|k| {
        KernelCapabilities::builder()
            .set_add(strings(k.get("add")))
            .set_drop(strings(k.get("drop")))
            .build()
    });
    Some(
        LinuxParameters::builder()
            .set_capabilities(capabilities)
            .set_init_process_enabled(boolean(l.get("init_process_enabled")))
            .build(),
    )
}

mod read;

pub(crate) use read::normalise;

#[cfg(test)]
mod tests;
