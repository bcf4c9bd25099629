//! What the end-to-end tests of the binary share: running `iac` against the emulator, the
//! finished run with its streams, and asking the emulator directly (not through iac) what
//! exists. Each test file uses some of it.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use iac_testkit::Emulator;
use serde_json::Value as Json;

/// `iac ARGS` in `cwd`, stdin closed (no terminal), no colour; not yet pointed anywhere.
pub fn iac_command(cwd: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_iac"));
    cmd.current_dir(cwd)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    cmd
}

/// `iac ARGS` in `cwd`, pointed at `emulator`.
pub fn iac_in(cwd: &Path, emulator: &Emulator, args: &[&str]) -> Run {
    let mut cmd = iac_command(cwd, args);
    emulator.configure(&mut cmd);
    Run::of(cmd)
}

/// A finished run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn of(mut cmd: Command) -> Run {
        let Output {
            status,
            stdout,
            stderr,
        } = cmd.output().expect("run iac");
        Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }

    /// Assert the exit code, showing both streams when it is wrong.
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Assert that stdout contains `text`, showing stdout when it does not.
    #[track_caller]
    pub fn says(&self, text: impl AsRef<str>) -> &Run {
        let text = text.as_ref();
        assert!(
            self.stdout.contains(text),
            "no {text:?} in:\n{}",
            self.stdout
        );
        self
    }

    /// Assert that stderr contains `text`, showing stderr when it does not.
    #[track_caller]
    pub fn says_err(&self, text: impl AsRef<str>) -> &Run {
        let text = text.as_ref();
        assert!(
            self.stderr.contains(text),
            "no {text:?} in:\n{}",
            self.stderr
        );
        self
    }

    /// Stderr with the diagnostic frame removed, whitespace collapsed and the lines miette
    /// wrapped joined again (it also breaks lines after a `-`, inside dates and ids).
    pub fn err_flat(&self) -> String {
        let mut flat = String::new();
        for line in self.stderr.replace('│', " ").lines() {
            let words = line.split_whitespace().collect::<Vec<_>>().join(" ");
            if words.is_empty() {
                continue;
            }
            if !flat.is_empty() && !flat.ends_with('-') {
                flat.push(' ');
            }
            flat.push_str(&words);
        }
        flat
    }

    /// Every line of stdout, each parsed as one JSON object with a `type` and a
    /// `timestamp`; stderr must be empty (`--json`).
    pub fn events(&self) -> Vec<Json> {
        assert_eq!(self.stderr, "", "with --json nothing goes to stderr");
        self.stdout
            .lines()
            .map(|l| {
                let e: Json = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
                assert!(e["type"].is_string(), "{l}");
                let ts = e["timestamp"].as_str().unwrap_or_else(|| panic!("{l}"));
                assert!(ts.len() == 24 && ts.ends_with('Z'), "{l}");
                e
            })
            .collect()
    }
}

/// A query-API request (form-encoded POST) straight to the emulator for `service`; the
/// response, which must be a 200. moto does not check signatures, only reads the service and
/// region from the credential scope.
pub fn query(emulator: &Emulator, service: &str, body: &str) -> String {
    let response = emulator_request(emulator, service, "POST", "/", body);
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "{body}: {response:.400}"
    );
    response
}

/// One raw request to the emulator for `service`: the status line, headers and body.
pub fn emulator_request(
    emulator: &Emulator,
    service: &str,
    method: &str,
    path: &str,
    body: &str,
) -> String {
    let addr = emulator.url().trim_start_matches("http://").to_string();
    let mut s = TcpStream::connect(&addr).expect("connect to the emulator");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    response
}

/// An EC2 `Describe*` of what carries the tag `iac:stack=stack`: the test's own view of
/// what exists, independent of iac.
pub fn ec2_describe_by_stack(emulator: &Emulator, action: &str, stack: &str) -> String {
    query(
        emulator,
        "ec2",
        &format!(
            "Action={action}&Version=2016-11-15&Filter.1.Name=tag%3Aiac%3Astack&Filter.1.Value.1={stack}"
        ),
    )
}

/// How many objects of the network kinds the emulator holds for `stack`. Every object iac
/// tags carries `iac:name` once; ids also appear nested (a route table's associations repeat
/// its id), tags do not.
pub fn network_count(emulator: &Emulator, stack: &str) -> usize {
    [
        "DescribeVpcs",
        "DescribeSubnets",
        "DescribeSecurityGroups",
        "DescribeInternetGateways",
        "DescribeRouteTables",
    ]
    .iter()
    .map(|action| {
        ec2_describe_by_stack(emulator, action, stack)
            .matches("<key>iac:name</key>")
            .count()
    })
    .sum()
}

/// Replace AWS ids (`vpc-0a1b...`, `sg-...`) with `<ID>` so snapshots are stable.
pub fn mask_ids(text: &str) -> String {
    const PREFIXES: [&str; 6] = ["vpc-", "subnet-", "igw-", "rtb-", "sg-", "rtbassoc-"];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'outer: while !rest.is_empty() {
        for p in PREFIXES {
            if let Some(after) = rest.strip_prefix(p) {
                let hex = after.bytes().take_while(u8::is_ascii_hexdigit).count();
                if hex >= 8 {
                    out.push_str("<ID>");
                    rest = &after[hex..];
                    continue 'outer;
                }
            }
        }
        let c = rest.chars().next().unwrap();
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// `s` percent-encoded for a query string.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The text between the first `<tag>` and `</tag>` of an emulator's XML answer.
pub fn xml_value(body: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = body
        .find(&open)
        .unwrap_or_else(|| panic!("no <{tag}>: {body:.400}"))
        + open.len();
    let end = body[start..].find(&format!("</{tag}>")).unwrap() + start;
    body[start..end].to_string()
}

/// A loopback port nobody listens on.
pub fn closed_port_url() -> String {
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

/// A temporary working directory holding the stack file `file` of stack `stack`.
pub struct Work {
    dir: tempfile::TempDir,
    file: &'static str,
    stack: &'static str,
}

impl Work {
    /// `text` written as `file`; `stack` is its `stack:` name (whose state `state` reads).
    pub fn new(file: &'static str, stack: &'static str, text: &str) -> Work {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(file), text).expect("write the stack");
        Work { dir, file, stack }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Another file beside the stack file (a second stack).
    pub fn write(&self, file: &str, text: &str) {
        std::fs::write(self.path().join(file), text).expect("write a file");
    }

    pub fn state_file(&self) -> std::path::PathBuf {
        self.path().join(format!(".iac/state/{}.json", self.stack))
    }

    /// The stack's local state.
    pub fn state(&self) -> Json {
        self.state_of(self.stack)
    }

    /// The local state of `stack`, beside this one's.
    pub fn state_of(&self, stack: &str) -> Json {
        let path = self.path().join(format!(".iac/state/{stack}.json"));
        let text = std::fs::read_to_string(path).expect("state file");
        serde_json::from_str(&text).expect("state JSON")
    }

    pub fn serial(&self) -> u64 {
        self.state()["serial"].as_u64().expect("serial")
    }

    /// The physical id the state records for `name`.
    pub fn id_of(&self, name: &str) -> String {
        self.state()["resources"][name]["physical_id"]
            .as_str()
            .unwrap_or_else(|| panic!("`{name}` is not in the state"))
            .to_string()
    }

    /// Replace `from` (which must be there) by `to` in the stack file.
    pub fn edit_stack(&self, from: &str, to: &str) {
        let path = self.path().join(self.file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "the stack has no {from:?}");
        std::fs::write(&path, text.replace(from, to)).unwrap();
    }

    /// `iac ARGS` in this directory, pointed at `emulator`.
    pub fn iac(&self, emulator: &Emulator, args: &[&str]) -> Run {
        iac_in(self.path(), emulator, args)
    }

    /// `iac apply --yes` of the stack file, which must succeed.
    pub fn apply(&self, emulator: &Emulator) -> Run {
        self.iac(emulator, &["apply", "--yes", self.file]).expect(0)
    }

    /// `iac plan --detailed-exitcode` of the stack file finds nothing to change.
    pub fn plans_no_changes(&self, emulator: &Emulator) {
        let plan = self
            .iac(emulator, &["plan", "--detailed-exitcode", self.file])
            .expect(0);
        assert!(plan.stdout.contains("No changes."), "{}", plan.stdout);
    }

    /// `iac destroy --yes` of the stack file, which must succeed.
    pub fn destroy(&self, emulator: &Emulator) -> Run {
        self.iac(emulator, &["destroy", "--yes", self.file])
            .expect(0)
    }

    /// Writes `state` as the stack's local state (a state made by hand).
    pub fn write_state(&self, state: &Json) {
        let path = self.state_file();
        std::fs::create_dir_all(path.parent().expect("state directory")).expect("mkdir");
        std::fs::write(
            &path,
            serde_json::to_string_pretty(state).expect("state JSON"),
        )
        .expect("write the state");
    }

    /// `iac ARGS` in this directory with AWS pointed at a port nobody listens on: a command
    /// that called AWS would fail with `iac::aws::unreachable`.
    pub fn iac_offline(&self, args: &[&str]) -> Run {
        let mut cmd = iac_command(self.path(), args);
        cmd.env("AWS_ENDPOINT_URL", closed_port_url())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_REGION");
        Run::of(cmd)
    }

    /// `iac ARGS` with no AWS settings at all but the given ones.
    pub fn iac_bare(&self, env: &[(&str, &str)], args: &[&str]) -> Run {
        let mut cmd = iac_command(self.path(), args);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("NO_COLOR", "1")
            .envs(env.iter().copied());
        Run::of(cmd)
    }

    /// `iac ARGS` in this directory, not yet pointed anywhere.
    pub fn command(&self, args: &[&str]) -> Command {
        iac_command(self.path(), args)
    }
}

/// The bucket and key of the S3 state [`with_state_in_s3`] gives `e2e-net`.
const S3_STATE: &str = "e2e-iac-state/iac/e2e-net.json";

/// `text` (a stack named `e2e-net` in `us-east-1`) with its state in S3, in the bucket
/// `e2e-iac-state` made for it in `emulator`.
pub fn with_state_in_s3(emulator: &Emulator, text: &str) -> String {
    let bucket = S3_STATE.split('/').next().unwrap_or_default();
    let created = emulator_request(emulator, "s3", "PUT", &format!("/{bucket}"), "");
    assert!(created.starts_with("HTTP/1.1 200"), "{created:.300}");
    text.replace(
        "region: us-east-1\n",
        &format!("region: us-east-1\nstate: s3://{S3_STATE}\n"),
    )
}

/// What the emulator answers for the object `suffix` names beside the S3 state of
/// [`with_state_in_s3`]: `""` for the state itself, `".lock"` for its lock.
pub fn s3_state_object(emulator: &Emulator, suffix: &str) -> String {
    emulator_request(emulator, "s3", "GET", &format!("/{S3_STATE}{suffix}"), "")
}

/// The end-to-end network stack `e2e-net` ([`network_stack`]) with public subnets.
pub fn net_stack() -> String {
    network_stack("e2e-net", 20, true)
}

/// A working directory with `text` as the stack file `net.yaml` (stack `e2e-net`).
pub fn net_work(text: &str) -> Work {
    Work::new("net.yaml", "e2e-net", text)
}

/// The network stack of the end-to-end tests, named `stack`: a VPC `10.OCTET.0.0/16` (tagged
/// `team: web`), two subnets (public ones when `public`), an internet gateway, a route table
/// and a security group, with the VPC's id as output.
pub fn network_stack(stack: &str, octet: u8, public: bool) -> String {
    let text = NETWORK
        .replace("STACK", stack)
        .replace("OCTET", &octet.to_string());
    if public {
        text.replace(
            "    az: ${region}a\n",
            "    az: ${region}a\n    public: true\n",
        )
        .replace(
            "    az: ${region}b\n",
            "    az: ${region}b\n    public: true\n",
        )
    } else {
        text
    }
}

/// [`network_stack`] before its names are filled in.
const NETWORK: &str = r#"stack: STACK
region: us-east-1

resources:
  vpc:
    type: aws.vpc
    cidr: 10.OCTET.0.0/16
    tags:
      team: web

  public_a:
    type: aws.subnet
    vpc: ${vpc.id}
    cidr: 10.OCTET.1.0/24
    az: ${region}a

  public_b:
    type: aws.subnet
    vpc: ${vpc.id}
    cidr: 10.OCTET.2.0/24
    az: ${region}b

  igw:
    type: aws.internet_gateway
    vpc: ${vpc.id}

  routes:
    type: aws.route_table
    vpc: ${vpc.id}
    routes:
      - destination: 0.0.0.0/0
        gateway: ${igw.id}
    subnets:
      - ${public_a.id}
      - ${public_b.id}

  web_sg:
    type: aws.security_group
    vpc: ${vpc.id}
    description: e2e web
    ingress:
      - { protocol: tcp, port: 443, cidr: 10.0.0.0/8, description: HTTPS }

outputs:
  vpc_id: ${vpc.id}
"#;
