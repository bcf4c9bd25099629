//! Test harness: a private AWS emulator (moto in server mode) per test.
//!
//! Emulator tests prove what unit tests on the fake provider cannot: that the real SDK calls,
//! with the real endpoint, credentials and region plumbing, do what iac expects. Each test
//! starts its own [`Emulator`] on a free loopback port, so tests run in parallel without
//! sharing state, and the process is killed when the handle drops.
//!
//! Missing moto is a failure, never a skip: a suite that silently skips its emulator tests
//! looks green while testing nothing. Install it with `just emulator-install`.
//!
//! Nothing here touches the test process's environment; [`Emulator::aws_env`] and
//! [`Emulator::configure`] give a child process (the `iac` binary) what it needs.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The variable that names the `moto_server` executable (the justfile sets it).
pub const MOTO_SERVER_VAR: &str = "IAC_MOTO_SERVER";

/// The region emulator tests use.
pub const REGION: &str = "us-east-1";

/// How long moto may take to answer after it was spawned. A cold start is about a second;
/// the bound is generous because tests start emulators while cargo compiles on two cores.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// How to configure moto. The defaults are what iac's stacks need to converge.
#[derive(Debug, Clone)]
pub struct EmulatorOptions {
    /// `MOTO_ECS_SERVICE_RUNNING`: the `runningCount` moto reports for every ECS service, so
    /// that waiting for a service to be stable finishes (moto runs no containers).
    pub ecs_service_running: u32,
    /// `MOTO_ACM_VALIDATION_WAIT`: seconds until a DNS-validated certificate turns `ISSUED`
    /// (moto's default, 60, would make every HTTPS test wait a minute).
    pub acm_validation_wait_secs: u32,
    /// `MOTO_IAM_LOAD_MANAGED_POLICIES`: load AWS managed policies, so roles can attach
    /// `arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy`.
    pub iam_load_managed_policies: bool,
    /// More variables for moto, e.g. `MOTO_ECS_SERVICE_FAILED_TASKS`.
    pub extra_env: Vec<(String, String)>,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions {
            ecs_service_running: 2,
            acm_validation_wait_secs: 5,
            iam_load_managed_policies: true,
            extra_env: Vec::new(),
        }
    }
}

impl EmulatorOptions {
    /// The variables moto is started with.
    pub fn moto_env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            (
                "MOTO_IAM_LOAD_MANAGED_POLICIES".to_owned(),
                self.iam_load_managed_policies.to_string(),
            ),
            (
                "MOTO_ACM_VALIDATION_WAIT".to_owned(),
                self.acm_validation_wait_secs.to_string(),
            ),
            (
                "MOTO_ECS_SERVICE_RUNNING".to_owned(),
                self.ecs_service_running.to_string(),
            ),
        ];
        env.extend(self.extra_env.iter().cloned());
        env
    }
}

/// A running moto server, killed on drop.
#[derive(Debug)]
pub struct Emulator {
    child: Child,
    url: String,
    log_path: PathBuf,
    /// A private temporary directory: the log, and the absent AWS config files of `aws_env`.
    config_dir: PathBuf,
}

/// Where `moto_server` is: `$IAC_MOTO_SERVER`, else the repository's `.venv`.
pub fn moto_server_path() -> PathBuf {
    match std::env::var_os(MOTO_SERVER_VAR) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../.venv/bin/moto_server")
            .components()
            .collect(),
    }
}

fn install_hint(path: &Path) -> String {
    format!(
        "the AWS emulator `moto_server` was not found at `{}`; install it with `just emulator-install` \
         (creates `.venv` and installs tests/emulator/requirements.txt), or set `{MOTO_SERVER_VAR}` \
         to a moto_server executable. Emulator tests never skip",
        path.display()
    )
}

/// A port nobody listens on right now. moto binds it a moment later; a port taken in
/// between makes moto exit, and [`Emulator::start_with`] then tries another.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap_or_else(|e| panic!("cannot bind a loopback port for the emulator: {e}"));
    listener
        .local_addr()
        .unwrap_or_else(|e| panic!("cannot read the bound loopback port: {e}"))
        .port()
}

impl Emulator {
    /// Starts moto with the default [`EmulatorOptions`].
    ///
    /// # Panics
    /// When moto is not installed or does not come up: emulator tests must fail, not skip.
    pub fn start() -> Emulator {
        Emulator::start_with(EmulatorOptions::default())
    }

    /// Starts moto with `options`.
    ///
    /// # Panics
    /// When moto is not installed or does not come up.
    pub fn start_with(options: EmulatorOptions) -> Emulator {
        let program = moto_server_path();
        if !program.is_file() {
            panic!("{}", install_hint(&program));
        }
        let mut last_log = String::new();
        for _ in 0..3 {
            let port = free_port();
            let config_dir =
                std::env::temp_dir().join(format!("iac-moto-{}-{port}", std::process::id()));
            std::fs::create_dir_all(&config_dir)
                .unwrap_or_else(|e| panic!("cannot create `{}`: {e}", config_dir.display()));
            let log_path = config_dir.join("moto.log");
            let log = File::create(&log_path).unwrap_or_else(|e| {
                panic!(
                    "cannot create the emulator log `{}`: {e}",
                    log_path.display()
                )
            });
            let log_err = log
                .try_clone()
                .unwrap_or_else(|e| panic!("cannot share the emulator log file: {e}"));
            let child = Command::new(&program)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .envs(options.moto_env())
                .stdin(Stdio::null())
                .stdout(Stdio::from(log))
                .stderr(Stdio::from(log_err))
                .spawn()
                .unwrap_or_else(|e| panic!("{} (spawning it failed: {e})", install_hint(&program)));
            let mut emulator = Emulator {
                child,
                url: format!("http://127.0.0.1:{port}"),
                log_path,
                config_dir,
            };
            match emulator.wait_ready() {
                Ok(()) => return emulator,
                Err(Exit::Exited(log)) if log.contains("Address already in use") => {
                    last_log = log;
                    continue;
                }
                Err(Exit::Exited(log)) => panic!(
                    "the AWS emulator `{}` exited at start; its output:\n{log}\n{}",
                    program.display(),
                    install_hint(&program)
                ),
                Err(Exit::TimedOut(log)) => panic!(
                    "the AWS emulator `{}` did not answer on {} within {:?}; its output:\n{log}",
                    program.display(),
                    emulator.url,
                    READY_TIMEOUT
                ),
            }
        }
        panic!(
            "the AWS emulator could not bind a free port in 3 tries; its last output:\n{last_log}"
        )
    }

    /// Polls until moto answers HTTP, with backoff from 20 ms to 250 ms.
    fn wait_ready(&mut self) -> Result<(), Exit> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut delay = Duration::from_millis(20);
        loop {
            if let Ok(Some(_status)) = self.child.try_wait() {
                return Err(Exit::Exited(self.log_tail()));
            }
            if let Ok((status, _)) = self.request("GET", "/moto-api/") {
                if status == 200 {
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                return Err(Exit::TimedOut(self.log_tail()));
            }
            std::thread::sleep(delay);
            delay = (delay * 2).min(Duration::from_millis(250));
        }
    }

    /// The endpoint URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Forgets every resource, as if freshly started (`POST /moto-api/reset`).
    ///
    /// # Panics
    /// When moto does not confirm the reset.
    pub fn reset(&self) {
        match self.request("POST", "/moto-api/reset") {
            Ok((200, _)) => {}
            Ok((status, body)) => {
                panic!("the emulator refused the reset with HTTP {status}: {body}")
            }
            Err(e) => panic!("the emulator at {} did not answer the reset: {e}", self.url),
        }
    }

    /// The variables that point an AWS client (the `iac` binary, the AWS CLI) at this
    /// emulator: test credentials, [`REGION`], the endpoint, no metadata service and no
    /// profile files of the machine.
    pub fn aws_env(&self) -> Vec<(String, String)> {
        let missing = self.config_dir.join("no-such-file");
        let missing = missing.to_string_lossy().into_owned();
        [
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_SESSION_TOKEN", "testing"),
            ("AWS_REGION", REGION),
            ("AWS_DEFAULT_REGION", REGION),
            ("AWS_ENDPOINT_URL", self.url.as_str()),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_CONFIG_FILE", missing.as_str()),
            ("AWS_SHARED_CREDENTIALS_FILE", missing.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// Sets [`Emulator::aws_env`] on `command` and removes the AWS variables that would
    /// send it elsewhere (a profile, per-service endpoints).
    pub fn configure<'c>(&self, command: &'c mut Command) -> &'c mut Command {
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            if key.starts_with("AWS_ENDPOINT_URL_")
                || key == "AWS_PROFILE"
                || key == "AWS_DEFAULT_PROFILE"
            {
                command.env_remove(key.as_ref());
            }
        }
        command.envs(self.aws_env())
    }

    /// The last lines moto printed: its request log and any traceback.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// One HTTP/1.1 request to moto with `Connection: close`; returns the status and body.
    fn request(&self, method: &str, path: &str) -> std::io::Result<(u16, String)> {
        let addr: SocketAddr = self
            .url
            .trim_start_matches("http://")
            .parse()
            .map_err(|e| std::io::Error::other(format!("bad emulator address: {e}")))?;
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.set_write_timeout(Some(Duration::from_secs(10)))?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        let status = response
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("not an HTTP answer: {response:.80}")))?;
        let body = response
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_owned();
        Ok((status, body))
    }
}

enum Exit {
    Exited(String),
    TimedOut(String),
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // Errors here mean the process is already gone; nothing is left to clean up.
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Keep the log of a failing test for inspection; it is named in the panic message.
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.config_dir);
        } else {
            eprintln!("emulator log kept at {}", self.log_path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_options_are_what_the_stacks_need() {
        let env = EmulatorOptions::default().moto_env();
        let get = |k: &str| {
            env.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("MOTO_IAM_LOAD_MANAGED_POLICIES"), Some("true"));
        assert_eq!(get("MOTO_ACM_VALIDATION_WAIT"), Some("5"));
        assert_eq!(get("MOTO_ECS_SERVICE_RUNNING"), Some("2"));
    }

    #[test]
    fn free_port_is_bindable() {
        let port = free_port();
        assert_ne!(port, 0);
        TcpListener::bind((Ipv4Addr::LOCALHOST, port)).expect("the port returned is free");
    }

    #[test]
    fn starts_answers_resets_and_stops() {
        let emulator = Emulator::start();
        let url = emulator.url().to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        let (status, _) = emulator
            .request("GET", "/moto-api/data.json")
            .expect("moto answers");
        assert_eq!(status, 200);
        emulator.reset();
        let env = emulator.aws_env();
        assert!(env.contains(&("AWS_ENDPOINT_URL".to_owned(), url.clone())));
        let addr: SocketAddr = url.trim_start_matches("http://").parse().unwrap();
        drop(emulator);
        assert!(
            TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(),
            "moto still listens on {addr} after drop"
        );
    }
}
